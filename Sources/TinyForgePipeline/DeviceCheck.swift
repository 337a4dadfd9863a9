import Foundation
import TinyForgeDeploy
import TinyForgeHardware

/// The generated C library of a quantised network run on a Cortex-M7 (QEMU mps2-an500),
/// compared byte for byte with the Swift int8 engine, with the linker's memory beside the
/// cost model's estimates.
public struct DeviceCheckResult: Sendable {
    public var report: DeployCheckReport
    public var cost: CostReport
    /// The `--patch` decision the library was built with (nil: layer by layer, no `--patch`).
    public var patch: PatchDecision?
    /// .text + .rodata without the embedded sample inputs (library + startup + harness code).
    public var flashBytes: Int { (report.sections[".text"] ?? 0) + (report.sections[".rodata"] ?? 0) - report.sampleBytes }
    /// .data + .bss + reserved stack.
    public var ramBytes: Int { report.ramBytes }
    public var outputsMatch: Bool { report.outputsMatch }

    public var table: String {
        let r = report
        let mism = r.samples.filter { !$0.matches }
        return """
        QEMU mps2-an500 (Cortex-M7): \(r.samples.count) samples, outputs identical to the Swift int8 engine: \(r.outputsMatch ? "yes" : "NO (\(mism.map { "#\($0.index): \($0.mismatches) bytes, max |Δ| \($0.maxAbsDiff)" }.joined(separator: "; ")))")
        | | measured (arm-none-eabi-size) | cost model |
        |---|---|---|
        | flash: text + rodata (without \(r.sampleBytes) B of samples) | \(flashBytes) B (text \(r.sections[".text"] ?? 0), rodata \(r.sections[".rodata"] ?? 0)) | \(cost.flash.total) B (weights \(cost.flash.weightBytes) + biases \(cost.flash.biasBytes) + quant \(cost.flash.quantParamBytes); no code) |
        | constants emitted (weights.c) | \(r.constantBytes) B | |
        | RAM: data + bss + stack | \(ramBytes) B (data \(r.sections[".data"] ?? 0), bss \(r.sections[".bss"] ?? 0), stack \(r.stackReservedBytes) reserved / \(r.stackUsedBytes) used) | |
        | activation arena | \(r.arenaLinkedBytes) B linked (planned \(r.arenaPlannedBytes)) | \(cost.peakSRAMBytes) B peak SRAM |
        """ + patchRow
    }

    /// The patch plan beside the per-layer arena, when `--patch` was given.
    var patchRow: String {
        guard let d = patch else { return "" }
        guard let p = d.plan else { return "\n| patch plan (--patch \(d.setting)) | layer by layer: \(d.reason ?? "no plan") | |" }
        let what = p.stages.count == 1 && p.stage.startOp == 0
            ? "\(p.stage.grid)x\(p.stage.grid) tiles up to \(p.stage.split.phrase) (--patch …@\(p.stage.split))"
            : "\(p.stages.count) patch stages (--patch \(p.setting))"
        return "\n| patch plan (--patch \(d.setting)) | \(what), arena \(p.arenaBytes) B planned | per-layer arena \(d.perLayerArena) B, +\(p.extraMACs) MACs (\(String(format: "%.2f", p.macOverhead * 100)) %) |"
    }
}

public enum DeviceCheck {
    /// - Throws: `DeployToolError.toolMissing` naming the tool and its Debian package when the
    ///   Arm toolchain or QEMU is absent; `DeployError` / `DeployToolError` for build or run
    ///   failures.
    /// `patch`: the `--patch` decision for `plan`; its plan (if any) is what the library runs.
    public static func run(_ q: QuantizedNetwork, plan: LayerPlan, inputs: [[Int8]], target: Target, workDir: URL,
                           timeout: Double = 600, searchPath: String? = nil, patch: PatchDecision? = nil) throws -> DeviceCheckResult {
        let patched = patch?.plan.map { ($0, KernelSchedule(plan: plan)) }
        let report = try DeployCheck.run(model: q.model, inputs: inputs, workDir: workDir, timeout: timeout, searchPath: searchPath,
                                         patch: patched)
        return DeviceCheckResult(report: report, cost: CostModel.evaluate(plan, target: target), patch: patch)
    }
}
