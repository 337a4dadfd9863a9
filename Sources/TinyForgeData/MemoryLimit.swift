import Foundation

/// How much memory a command may allocate: `--max-memory`, else what the kernel reports as
/// available (MemAvailable in /proc/meminfo: free memory plus reclaimable caches).
///
/// Swift traps on a failed allocation ("Fatal error: failed to allocate …", exit 134), so
/// commands compare an estimate of their peak with this limit *before* allocating and refuse
/// with the estimate, the limit and the fix instead.
public struct MemoryLimit: Sendable, Equatable, CustomStringConvertible {
    public let bytes: Int
    /// Where the limit comes from, for messages ("--max-memory 2 GB", "MemAvailable").
    public let source: String

    public init(bytes: Int, source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// `--max-memory` when given; else MemAvailable; nil when neither is known (no
    /// /proc/meminfo, e.g. macOS), in which case nothing is checked.
    public static func resolve(maxMemory: Int?, meminfoPath: String = "/proc/meminfo") -> MemoryLimit? {
        if let m = maxMemory { return MemoryLimit(bytes: m, source: "--max-memory") }
        guard let text = try? String(contentsOfFile: meminfoPath, encoding: .utf8),
              let kb = parseMemAvailable(text) else { return nil }
        return MemoryLimit(bytes: kb * 1024, source: "available (MemAvailable in \(meminfoPath))")
    }

    /// Kilobytes of the `MemAvailable:` line of /proc/meminfo text.
    static func parseMemAvailable(_ text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kb = Int(fields[1]), kb >= 0 else { return nil }
            return kb
        }
        return nil
    }

    public var description: String { "\(Self.format(bytes)) (\(source))" }

    /// Human-readable bytes in binary units ("1.5 GB"); exact below a kilobyte.
    public static func format(_ b: Int) -> String {
        let units = ["KB", "MB", "GB", "TB", "PB", "EB"]
        guard b >= 1024 else { return "\(b) B" }
        var v = Double(b) / 1024, i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return (v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v)) + " " + units[i]
    }
}
