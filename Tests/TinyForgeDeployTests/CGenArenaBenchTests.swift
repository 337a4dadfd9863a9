import Foundation
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// Heavy check behind bench/RESULTS-cgen.md: one MBConv block (40×40×24, expansion 6,
/// SE 0.25, residual; leaky_relu or swish) plus a GAP+FC head, lowered from a spec. Prints our
/// arena (fused, in place) next to the cost model's predictions and the arena the real TFLM
/// interpreter uses for the same .tflite, checks TFLM == Swift == host C (== QEMU when the
/// ARM toolchain is there). Opt-in (about 15 s): skips unless TINYFORGE_BENCH=1, and without
/// tflite-micro. Run: TINYFORGE_BENCH=1 swift test --filter CGenArenaBenchTests
final class CGenArenaBenchTests: XCTestCase {
    func testMBConv40x40x24Arena() throws {
        guard ProcessInfo.processInfo.environment["TINYFORGE_BENCH"] == "1" else { throw XCTSkip("set TINYFORGE_BENCH=1") }
        try TFLMHarness.skipIfUnavailable()
        for act in [Activation.leakyRelu, .swish] {
            let spec = ArchitectureSpec(
                name: "mbconv40-\(act.rawValue)", input: InputShape(height: 40, width: 40, channels: 24), numClasses: 10,
                stages: [StageSpec(block: .mbconv, repeats: 1, outChannels: 24, kernel: 3, stride: 1, expansion: 6,
                                   seRatio: 0.25, activation: act, skip: .residual)])
            let lp = LayerPlan(spec: spec)
            let model = try LayerPlanToQuantized.model(lp, seed: 300)
            let ours = try CCodeGenerator(model: model).memory
            let costOurs = ActivationMemory(plan: lp, runtime: .tinyforgeC)
            let costTFLM = ActivationMemory(plan: lp, runtime: .stockTFLM)
            let inputs = DeployModelZoo.inputs(model, count: 1, seed: 301)
            let expected = try Int8Interpreter(model: model).run(inputs: inputs).flatMap { $0 }
            let tflm = try TFLMHarness.run(model, inputs: inputs, tag: spec.name!)
            XCTAssertEqual(tflm.tflm, expected, "\(act): TFLM vs Swift")
            let arena = tflm.json["arena"] as? [String: Any] ?? [:]
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let host = try DeployCheck.runHost(model: model, inputs: inputs, workDir: dir.appendingPathComponent("host"))
            XCTAssertTrue(host.outputsMatch, "\(act): host C vs Swift")
            var qemuLine = "qemu: skipped (no arm-none-eabi-gcc / qemu-system-arm)"
            do {
                let r = try DeployCheck.run(model: model, inputs: inputs, workDir: dir.appendingPathComponent("qemu"))
                XCTAssertTrue(r.outputsMatch, "\(act): QEMU vs Swift")
                qemuLine = r.summary.replacingOccurrences(of: "\n", with: " | ")
            } catch DeployToolError.toolMissing {}
            print("""
            CGEN-ARENA \(spec.name!) (\(model.ops.count) TFLite ops, \(ours.steps.count) fused kernels)
              ours: arena \(ours.arenaBytes) B, lower bound \(ours.lowerBound) B, peak step \(ours.peakStep) \(ours.steps[ours.peakStep].label(model))
              cost model tinyforge: arena \(costOurs.arenaBytes) B; cost model tflm: arena \(costTFLM.arenaBytes) B
              TFLM measured: total \(arena["total"] ?? "?") B, head (activations) \(arena["head"] ?? "?") B, tail (persistent) \(arena["tail"] ?? "?") B
              \(qemuLine)
            \(ours.describe(model))
            """)
        }
    }
}
