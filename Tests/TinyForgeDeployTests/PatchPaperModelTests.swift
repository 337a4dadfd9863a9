import Foundation
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// The paper's three models at 160×160, 100 classes, under their `--patch auto` plans
/// (QwNet-Core's has two stages): the int8 interpreter's patched run byte-equal to its
/// per-layer run (bench/RESULTS-patch.md).
/// About 11 s in a debug build (the three models run twice each).
final class PatchPaperModelTests: XCTestCase {
    func testPaperModelsPatchedEqualPerLayer() throws {
        for name in ["lmanet-elite", "lmanet-core", "qwnet-core"] {
            let lp = LayerPlan(spec: ReferenceNetworks.spec(name)!)
            let schedule = KernelSchedule(plan: lp)
            let plan = try XCTUnwrap(try PatchPlanner.decide(schedule, setting: .auto).plan, name)
            let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: 15, images: 1)
            let ip = try Int8Interpreter(model: net.model)
            let stages = try Int8PatchStage.stages(plan, interpreter: ip, schedule: schedule)
            let input = net.quantizeInput(images[0][...])
            var t = Date()
            let reference = try ip.runAll(inputs: [input])
            let perLayer = Date().timeIntervalSince(t)
            t = Date()
            let patched = try ip.runPatchedAll(inputs: [input], stages: stages)
            let patchedTime = Date().timeIntervalSince(t)
            var bytes = 0
            for (id, v) in patched {
                XCTAssertEqual(v, reference[id], "\(name): \(net.model.tensors[id].name)")
                bytes += v.count
            }
            let logits = net.model.outputs.map { patched[$0]! }
            let tiled = stages.reduce(0) { $0 + $1.ops - $1.first }
            print("\(name): \(plan.setting), \(tiled) of \(net.model.ops.count) int8 ops patched, \(patched.count) tensors (\(bytes) B) equal, logits \(logits == net.model.outputs.map { reference[$0]! } ? "equal" : "DIFFER"), per-layer \(String(format: "%.1f", perLayer)) s, patched \(String(format: "%.1f", patchedTime)) s")
        }
    }
}
