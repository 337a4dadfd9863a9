import TinyForgeData
import TinyForgeTraining

/// Distillation as the paper runs it starts from the fully trained student, not from fresh
/// weights: `train --init CKPT` loads the student's weights into the network about to train.
public enum FineTuneStart {
    /// Copies the weights of `checkpoint` into `net` (same architecture, compared by canonical
    /// hash) and returns the normalisation the checkpoint was trained with (`fallback` when it
    /// does not record one): fine-tuning must see its inputs scaled as before.
    public static func apply(checkpoint: String, to net: Network, fallback: Normalization) throws -> Normalization {
        let contents = try Checkpoint.read(checkpoint)
        let want = net.plan.spec.canonicalHash
        guard contents.spec.canonicalHash == want else {
            throw TrainingError.invalidOption("--init-from \(checkpoint)", "holds architecture \(contents.spec.canonicalHash.prefix(12)) (\(contents.spec.name ?? "unnamed")), but the network to train is \(want.prefix(12)) (\(net.plan.spec.name ?? "unnamed")); pass the checkpoint of this architecture")
        }
        try Checkpoint.apply(contents, to: net, file: checkpoint)
        return try contents.metadata["normalization"].map { try Normalization(metadataText: $0, file: checkpoint) } ?? fallback
    }
}
