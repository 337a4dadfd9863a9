import ArgumentParser
import Foundation
import TinyForgeHardware
import TinyForgeSpec

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "MACs, parameters, flash, peak SRAM and latency of an architecture on an MCU, per layer.")

    @OptionGroup var arch: ArchitectureOptions
    @OptionGroup var budget: BudgetOptions

    @Option(help: "Also check membership in a search space: a preset (\(SearchSpace.presets.map(\.name).joined(separator: ", "))) or a JSON file.")
    var space: String?

    @Flag(help: "Print the machine-readable report (the contract in docs/ARCHITECTURE.md).")
    var json = false

    @Flag(help: "Draw the activation memory plan (one row per step).")
    var memoryPlan = false

    @Option(help: "Patch-based inference: auto, off, or PxP@BLOCK (a P×P grid over block BLOCK's input; the stem and earlier blocks run tile by tile). Prints the per-layer and the patch plan side by side.")
    var patch: String?

    @Option(help: "With --patch auto: the most extra MACs (recomputed halos) a patch plan may cost, as a fraction of the network's MACs.")
    var patchMaxOverhead = "0.2"

    func run() throws {
        do {
            let (spec, warnings) = try arch.load()
            let (target, b) = try budget.resolve()
            let report = CostModel.evaluate(spec, target: target, budget: b)
            let patchDecision = try ProfilePatch.decide(report.plan, patch: patch, maxOverhead: patchMaxOverhead)
            var allWarnings = warnings
            if let s = space {
                let sp = try SpaceCommand.loadSpace(s)
                allWarnings += sp.violations(of: spec).map { "outside space \(sp.name): \($0)" }
            }
            if json {
                var out = report.jsonValue(warnings: allWarnings)
                if let d = patchDecision, case var .object(o) = out {
                    o["patch"] = d.jsonValue(report.plan)
                    out = .object(o)
                }
                print(out.prettyText())
            } else {
                print(ProfileTable.render(report, warnings: allWarnings))
                if memoryPlan {
                    print(MemoryPlanner.memoryPlanDiagram(report.memory.plan))
                }
                if let d = patchDecision { print(ProfilePatch.render(d, plan: report.plan)) }
            }
            if !report.fits && !json { throw ExitCode(1) }
        } catch let e as ExitCode {
            throw e
        } catch {
            throw fail(error)
        }
    }
}

/// The terminal rendering of a `CostReport`.
enum ProfileTable {
    static func render(_ r: CostReport, warnings: [String]) -> String {
        var lines: [String] = []
        let live = r.memory.liveBytesPerOp(opCount: r.plan.ops.count)
        let peakOp = r.memory.steps[r.memory.peakStep].op
        lines.append("\(r.plan.spec.name ?? "network")  [\(r.plan.spec.shortHash)]  on \(r.target.name) (\(r.target.core.rawValue) @ \(Int(r.target.clockMHz)) MHz)")
        for w in warnings { lines.append("warning: \(w)") }
        lines.append("")
        let header = pad("#", 4) + pad("layer", 34) + pad("op", 18) + pad("in", 13) + pad("out", 13)
            + lpad("MACs", 11) + lpad("params", 9) + lpad("live", 10)
        lines.append(header)
        lines.append(String(repeating: "-", count: header.count + 2))
        for op in r.plan.ops {
            let i = r.plan.tensors[op.inputs[0]], o = r.plan.tensors[op.output]
            var kind = op.kind.rawValue
            if op.kind == .conv2d || op.kind == .depthwiseConv2d { kind += " \(op.kernel)x\(op.kernel)" + (op.stride > 1 ? "/\(op.stride)" : "") }
            lines.append(pad(String(op.index), 4) + pad(op.role, 34) + pad(kind, 18) + pad(shape(i), 13) + pad(shape(o), 13)
                         + lpad(Units.formatCount(op.macs), 11) + lpad(String(op.params), 9)
                         + lpad(Units.formatBytes(live[op.index]), 10) + (op.index == peakOp ? "  <- peak" : ""))
        }
        lines.append("")
        let tflm = r.tflmMemory.arenaBytes
        lines.append("MACs            \(Units.formatCount(r.macs)) (\(r.macs))   element-wise ops \(Units.formatCount(r.elementwiseOps))")
        lines.append("params          \(r.params) trainable, \(r.paramsDeployed) deployed (BN folded)")
        lines.append("flash           \(Units.formatBytes(r.flash.total)) = int8 weights \(Units.formatBytes(r.flash.weightBytes)) + int32 biases \(Units.formatBytes(r.flash.biasBytes)) + requant params \(Units.formatBytes(r.flash.quantParamBytes)) (runtime code not included)")
        lines.append("peak SRAM       \(Units.formatBytes(r.peakSRAMBytes)) (\(r.peakSRAMBytes) B) TinyForge runtime; lower bound \(Units.formatBytes(r.memory.lowerBound)); stock TFLM plan \(Units.formatBytes(tflm)) (\(String(format: "%.2f", Double(r.peakSRAMBytes) / Double(max(tflm, 1))))x)")
        let cal = LatencyModel.calibration.meanAbsRelativeError[r.target.core]
        lines.append("latency         \(String(format: "%.1f", r.latency.milliseconds)) ms estimated" + (cal.map { " (calibration error ±\(Int(($0 * 100).rounded()))% on published points)" } ?? " (no calibration points for this core)"))
        var budgetLine = "budget          SRAM \(Units.formatBytes(r.budget.sramBytes)), flash \(Units.formatBytes(r.budget.flashBytes))"
        if let m = r.budget.macs { budgetLine += ", MACs \(Units.formatCount(m))" }
        lines.append(budgetLine + (r.bindingConstraint.map { "; binding: \($0)" } ?? ""))
        if r.fits {
            lines.append("verdict         FITS")
        } else {
            lines.append("verdict         DOES NOT FIT")
            for v in r.violations { lines.append("  - \(v.message)") }
        }
        return lines.joined(separator: "\n")
    }

    static func shape(_ t: PlanTensor) -> String { "\(t.height)x\(t.width)x\(t.channels)" }
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}
