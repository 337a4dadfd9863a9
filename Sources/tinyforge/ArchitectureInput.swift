import ArgumentParser
import Foundation
import TinyForgeHardware
import TinyForgeSpec

/// Options shared by every command that takes an architecture.
struct ArchitectureOptions: ParsableArguments {
    @Argument(help: "Architecture JSON file (ours or the paper's candidate_config), or a built-in name: \(ReferenceNetworks.all.map(\.name).joined(separator: ", ")).")
    var architecture: String

    @Option(help: "Input resolution (square); overrides the file. Paper JSON defaults to 160.")
    var resolution: Int?

    @Option(help: "Number of classes; overrides the file. Paper JSON defaults to 100.")
    var classes: Int?

    /// Loads, applies overrides and validates; returns warnings (e.g. outside the paper's Table I).
    func load() throws -> (spec: ArchitectureSpec, warnings: [String]) {
        try Self.load(architecture, resolution: resolution, classes: classes)
    }

    /// `load()` for a file or built-in name given by a command's own option (no re-parsing).
    static func load(_ architecture: String, resolution: Int? = nil, classes: Int? = nil) throws
        -> (spec: ArchitectureSpec, warnings: [String]) {
        let text: String
        let source: String
        if let entry = ReferenceNetworks.named(architecture), !FileManager.default.fileExists(atPath: architecture) {
            text = entry.json; source = entry.name
        } else {
            guard FileManager.default.fileExists(atPath: architecture) else {
                throw SpecError(path: architecture, message: "no such file or built-in network; built-ins are \(ReferenceNetworks.all.map(\.name).joined(separator: ", "))")
            }
            guard let data = FileManager.default.contents(atPath: architecture) else {
                throw SpecError(path: architecture, message: "cannot be read; check its permissions")
            }
            guard let t = String(data: data, encoding: .utf8) else {
                throw SpecError(path: architecture, message: "is not UTF-8 text; expected architecture JSON")
            }
            text = t; source = architecture
        }
        var defaults = PaperImportDefaults()
        if let r = resolution { defaults.resolution = r }
        if let c = classes { defaults.numClasses = c }
        var (spec, warnings) = try ArchitectureSpec.decode(jsonText: text, source: source, defaults: defaults)
        if let r = resolution {
            guard ArchitectureSpec.Limits.resolution.contains(r) else {
                throw SpecError(path: "--resolution", message: "\(r) is out of range; allowed \(ArchitectureSpec.Limits.resolution)")
            }
            spec.input.height = r; spec.input.width = r
        }
        if let c = classes {
            guard ArchitectureSpec.Limits.classes.contains(c) else {
                throw SpecError(path: "--classes", message: "\(c) is out of range; allowed \(ArchitectureSpec.Limits.classes)")
            }
            spec.numClasses = c
        }
        try spec.validate()
        if spec.name == nil { spec.name = (architecture as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: "") }
        return (spec, warnings)
    }
}

/// Target and budget options (`--target stm32h743 --sram 320KB --flash 1MB --macs 100M`).
struct BudgetOptions: ParsableArguments {
    @Option(help: "MCU target: \(Target.all.map(\.name).joined(separator: ", ")).")
    var target: String = "stm32h743"

    @Option(help: "SRAM budget for activations, e.g. 320KB (KB = 1024 bytes). Default: the target's contiguous SRAM.")
    var sram: String?

    @Option(help: "Flash budget, e.g. 1MB. Default: the target's flash.")
    var flash: String?

    @Option(help: "MAC budget, e.g. 100M (M = 10^6). Default: none.")
    var macs: String?

    func resolve() throws -> (Target, Budget) {
        try Self.resolve(target: target, sram: sram, flash: flash, macs: macs)
    }

    /// `resolve()` for values a command holds in its own options (the demo's).
    static func resolve(target: String, sram: String?, flash: String?, macs: String?) throws -> (Target, Budget) {
        let t = try Target.named(target)
        var b = Budget(target: t)
        if let s = sram { b.sramBytes = try Units.parseBytes(s, field: "--sram") }
        if let f = flash { b.flashBytes = try Units.parseBytes(f, field: "--flash") }
        if let m = macs { b.macs = try Units.parseCount(m, field: "--macs") }
        return (t, b)
    }
}
