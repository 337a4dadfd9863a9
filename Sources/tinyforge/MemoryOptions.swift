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

/// A non-fatal problem, on stderr so machine-readable stdout (--json) stays clean.
func printWarning(_ message: String) {
    var stderr = StandardError()
    print("warning: \(message)", to: &stderr)
}
