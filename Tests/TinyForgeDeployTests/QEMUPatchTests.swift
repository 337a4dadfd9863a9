import Foundation
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// Patched libraries on a Cortex-M7 (QEMU mps2-an500): outputs byte-equal to the Swift int8
/// engine, the linked `arena` symbol equal to the patch plan's arena and below the per-layer
/// one. Skips without the Arm toolchain / QEMU. Run alone: swift test --filter QEMUPatchTests
final class QEMUPatchTests: XCTestCase {
    func testPatchedLibrariesUnderQEMU() throws {
        var runs = 0
        for spec in NetworkSpecZoo.all + PatchExecutionTests.specs(count: 3, seed: 17) {
            let lp = LayerPlan(spec: spec)
            let schedule = KernelSchedule(plan: lp)
            let perLayer = ActivationMemory(schedule: schedule.tinyforgeC).arenaBytes
            // The lowest-arena plan with halos (grid ≥ 2), as auto would pick without a MAC limit.
            guard let plan = PatchPlanner.candidates(schedule).filter({ $0.stage.grid <= 4 })
                .min(by: { ($0.arenaBytes, $0.extraMACs) < ($1.arenaBytes, $1.extraMACs) }) else { continue }
            try assertUnderQEMU(lp, plan: plan, schedule: schedule, perLayer: perLayer,
                                tag: "\(spec.name ?? spec.shortHash) \(plan.stage.grid)x\(plan.stage.grid)@\(plan.stage.split)")
            runs += 1
        }
        XCTAssertGreaterThanOrEqual(runs, 4)
    }

    /// QwNet-Core under its two-stage auto plan (160×160, 100 classes) and the lowest-arena
    /// two-stage plan (grids ≤ 3) of each spec-zoo network that has one.
    func testTwoStagePlansUnderQEMU() throws {
        var runs = 0
        let qw = LayerPlan(spec: ReferenceNetworks.spec("qwnet-core")!)
        for (i, lp) in ([qw] + NetworkSpecZoo.all.map({ LayerPlan(spec: $0) })).enumerated() {
            let schedule = KernelSchedule(plan: lp)
            let perLayer = ActivationMemory(schedule: schedule.tinyforgeC).arenaBytes
            let plan: PatchPlan
            if i == 0 {
                plan = try XCTUnwrap(try PatchPlanner.decide(schedule, setting: .auto).plan)
            } else {
                let firsts = PatchPlanner.candidates(schedule).filter { $0.stage.grid <= 3 }
                let seconds = PatchPlanner.laterStages(schedule).filter { $0.grid <= 3 }
                let pairs = try firsts.flatMap { f in
                    try seconds.filter { $0.startOp >= f.stage.splitOp }.map { try PatchPlan(stages: [f.stage, $0], schedule: schedule) }
                }
                guard let best = pairs.min(by: { ($0.arenaBytes, $0.extraMACs) < ($1.arenaBytes, $1.extraMACs) }) else { continue }
                plan = best
            }
            XCTAssertEqual(plan.stages.count, 2)
            try assertUnderQEMU(lp, plan: plan, schedule: schedule, perLayer: perLayer, tag: "\(i == 0 ? "qwnet-core" : lp.spec.name ?? lp.spec.shortHash) \(plan.setting)")
            runs += 1
        }
        XCTAssertGreaterThanOrEqual(runs, 2)
    }

    /// Deploys `plan` under QEMU: outputs == Swift, linked arena == planned (skips without tools).
    func assertUnderQEMU(_ lp: LayerPlan, plan: PatchPlan, schedule: KernelSchedule, perLayer: Int, tag: String) throws {
        let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: 21, images: 2)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-qemu-patch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report: DeployCheckReport
        do {
            report = try DeployCheck.run(model: net.model, inputs: images.map { net.quantizeInput($0[...]) }, workDir: dir,
                                         patch: (plan, schedule))
        } catch let e as DeployToolError {
            if case .toolMissing = e { throw XCTSkip(e.description) }
            throw e
        }
        print("QEMU-PATCH \(tag): arena linked \(report.arenaLinkedBytes) B, planned \(plan.arenaBytes) B, per-layer \(perLayer) B; \(report.summary)")
        for s in report.samples { XCTAssertEqual(s.mismatches, 0, "\(tag) sample \(s.index)") }
        XCTAssertEqual(report.arenaLinkedBytes, plan.arenaBytes, tag)
        XCTAssertEqual(report.arenaPlannedBytes, plan.arenaBytes, tag)
    }
}
