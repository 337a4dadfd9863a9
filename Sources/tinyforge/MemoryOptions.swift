import ArgumentParser
import TinyForgeData
import TinyForgeHardware
import TinyForgeSpec
import TinyForgeTraining

/// `--max-memory`, shared by the commands that train or run networks (train, evaluate,
/// evaluate-candidate, export, deploy-check): they estimate their peak memory before
/// allocating and refuse when it exceeds this limit or, by default, the memory available.
struct MemoryOptions: ParsableArguments {
    @Option(help: "Refuse to start when the estimated peak memory exceeds SIZE (e.g. 512MB, 4GB). Default: the memory available (MemAvailable).")
    var maxMemory: String?

    func limit() throws -> MemoryLimit? {
        MemoryLimit.resolve(maxMemory: try maxMemory.map { try Units.parseBytes($0, field: "--max-memory") })
    }
}

extension ArchitectureSpec {
    /// "name at H×W" for memory messages.
    var memoryLabel: String { "\(name ?? "network") at \(input.height)×\(input.width)" }
}

/// The memory check of the commands that train (train, evaluate-candidate).
enum TrainingMemoryCheck {
    /// Lowers `spec` and refuses, before the network is built, when training it would exceed
    /// `limit`; returns the plan to build the network from.
    static func training(_ spec: ArchitectureSpec, config: TrainConfig, splits: DatasetSplits, limit: MemoryLimit?,
                         printSummary: Bool) throws -> LayerPlan {
        let plan = LayerPlan(spec: spec)
        let summary = try MemoryEstimate.of(plan, use: .training(batch: config.batchSize, validationImages: splits.val.count, optimizer: config.optimizer.kind),
                              threads: config.threads, datasetBytes: splits.memoryBytes)
            .check(against: limit, what: "training \(spec.memoryLabel) with batch \(config.batchSize)",
                   fix: "use a smaller --batch or --resolution, or a smaller dataset")
        if printSummary { print(summary) }
        return plan
    }
}

/// A non-fatal problem, on stderr so machine-readable stdout (--json) stays clean.
func printWarning(_ message: String) {
    var stderr = StandardError()
    print("warning: \(message)", to: &stderr)
}
