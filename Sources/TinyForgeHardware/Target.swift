import Foundation
import TinyForgeSpec

/// A microcontroller the cost model estimates for. Targets are data: add one by adding a
/// value here or by passing a JSON file with the same fields.
public struct Target: Sendable, Equatable {
    public var name: String
    public var core: Core
    public var clockMHz: Double
    /// SRAM usable for the activation arena (the largest contiguous block, not the total).
    public var sramBytes: Int
    public var flashBytes: Int
    public var notes: String

    public enum Core: String, Sendable {
        case cortexM4 = "cortex-m4"
        case cortexM7 = "cortex-m7"
    }

    public static let stm32h743 = Target(
        name: "stm32h743", core: .cortexM7, clockMHz: 480, sramBytes: 512 * 1024, flashBytes: 2 * 1024 * 1024,
        notes: "STM32H743: 1 MB SRAM in several blocks, 512 KB contiguous AXI SRAM; 2 MB flash (the paper's board)")
    public static let stm32f746 = Target(
        name: "stm32f746", core: .cortexM7, clockMHz: 216, sramBytes: 320 * 1024, flashBytes: 1024 * 1024,
        notes: "STM32F746: 320 KB SRAM, 1 MB flash (MCUNet's board)")
    public static let stm32l4r5 = Target(
        name: "stm32l4r5", core: .cortexM4, clockMHz: 120, sramBytes: 640 * 1024, flashBytes: 2 * 1024 * 1024,
        notes: "STM32L4R5ZI: 640 KB SRAM, 2 MB flash (MLPerf Tiny reference board, Nucleo-L4R5ZI)")
    public static let nrf52840 = Target(
        name: "nrf52840", core: .cortexM4, clockMHz: 64, sramBytes: 256 * 1024, flashBytes: 1024 * 1024,
        notes: "nRF52840: 256 KB RAM, 1 MB flash (Arduino Nano 33 BLE Sense)")

    public static let all: [Target] = [.stm32h743, .stm32f746, .stm32l4r5, .nrf52840]

    public static func named(_ name: String) throws -> Target {
        if let t = all.first(where: { $0.name == name.lowercased() }) { return t }
        throw SpecError(path: "--target", message: "\"\(name)\" is not a known target; use one of \(all.map(\.name).joined(separator: ", "))")
    }
}

/// Hard limits a candidate must satisfy. Defaults to the target's capacities; any of them can
/// be overridden (`--sram 320KB --flash 1MB --macs 100M`).
public struct Budget: Sendable, Equatable {
    public var sramBytes: Int
    public var flashBytes: Int
    /// nil = no MAC limit.
    public var macs: Int?
    /// `search --patch auto`: the SRAM check and figures use the patch plan's arena (when one
    /// beats the per-layer arena within `patchMaxOverhead`), the MAC figures its recomputation.
    public var patch: PatchSetting = .off
    public var patchMaxOverhead: Double = 0.2

    public init(sramBytes: Int, flashBytes: Int, macs: Int? = nil) {
        self.sramBytes = sramBytes; self.flashBytes = flashBytes; self.macs = macs
    }

    public init(target: Target) {
        self.init(sramBytes: target.sramBytes, flashBytes: target.flashBytes, macs: nil)
    }

    /// The paper's budget on the STM32H743: 320 KB SRAM, the 2 MB flash, < 100 M MACs.
    public static let paper = Budget(sramBytes: 320 * 1024, flashBytes: 2 * 1024 * 1024, macs: 100_000_000)
}

/// Parses sizes with units. Memory: B, KB/KiB/K (×1024), MB/MiB/M (×1024²) — MCU datasheets
/// use binary kilobytes (320 KB = 327,680 bytes). Counts (MACs): K (10³), M (10⁶), G (10⁹).
public enum Units {
    public static func parseBytes(_ text: String, field: String) throws -> Int {
        try parse(text, field: field, units: ["": 1.0, "b": 1, "k": 1024, "kb": 1024, "kib": 1024,
                                                 "m": 1_048_576, "mb": 1_048_576, "mib": 1_048_576,
                                                 "g": 1_073_741_824, "gb": 1_073_741_824, "gib": 1_073_741_824],
                  example: "320KB, 1MB, 4GB, 65536")
    }

    public static func parseCount(_ text: String, field: String) throws -> Int {
        try parse(text, field: field, units: ["": 1.0, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000],
                  example: "100M, 2.5G, 500000")
    }

    static func parse(_ text: String, field: String, units: [String: Double], example: String) throws -> Int {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "")
            .replacingOccurrences(of: "_", with: "")
        let numberPart = t.prefix { $0.isNumber || $0 == "." }
        let unit = String(t.dropFirst(numberPart.count))
        guard let v = Double(numberPart), v.isFinite, let mult = units[unit] else {
            throw SpecError(path: field, message: "\"\(text)\" is not a size; write e.g. \(example)")
        }
        let value = v * mult
        guard value >= 1, value < 1e15 else {
            throw SpecError(path: field, message: "\"\(text)\" must be positive; write e.g. \(example)")
        }
        return Int(value.rounded())
    }

    /// "320 KB" style for messages (binary kilobytes, one decimal when needed).
    public static func formatBytes(_ b: Int) -> String {
        if b < 1024 { return "\(b) B" }
        if b < 1 << 20 { return format(Double(b) / 1024) + " KB" }
        return format(Double(b) / Double(1 << 20)) + " MB"
    }

    public static func formatCount(_ n: Int) -> String {
        if n < 1_000 { return "\(n)" }
        if n < 1_000_000 { return format(Double(n) / 1e3) + " K" }
        if n < 1_000_000_000 { return format(Double(n) / 1e6) + " M" }
        return format(Double(n) / 1e9) + " G"
    }

    static func format(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }
}
