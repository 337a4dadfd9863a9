import TinyForgeData
import TinyForgeHardware
import TinyForgeSpec
import TinyForgeTraining

/// The memory check of the use cases that train (`train`, proxy evaluation).
public enum TrainingMemoryCheck {
    /// Lowers `spec` and refuses, before the network is built, when training it would exceed
    /// `limit`; returns the plan to build the network from and the one-line memory summary.
    public static func training(_ spec: ArchitectureSpec, config: TrainConfig, splits: DatasetSplits,
                                limit: MemoryLimit?) throws -> (plan: LayerPlan, summary: String) {
        let plan = LayerPlan(spec: spec)
        let label = "\(spec.name ?? "network") at \(spec.input.height)×\(spec.input.width)"
        let summary = try MemoryEstimate.of(plan, use: .training(batch: config.batchSize, validationImages: splits.val.count,
                                                                 optimizer: config.optimizer.kind),
                                            threads: config.threads, datasetBytes: splits.memoryBytes)
            .check(against: limit, what: "training \(label) with batch \(config.batchSize)",
                   fix: "use a smaller --batch or --resolution, or a smaller dataset")
        return (plan, summary)
    }
}
