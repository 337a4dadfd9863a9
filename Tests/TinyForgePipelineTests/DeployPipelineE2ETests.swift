import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeEngine
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// The whole pipeline on a network trained by the engine: train → checkpoint → load →
/// quantise (calibration on the training split) → int8 accuracy next to float → C library on
/// a Cortex-M7 under QEMU with outputs identical to the Swift int8 engine → .tflite in the real
/// TFLM with outputs identical too. Heavy (training + cross-compiling): filter it out with
/// `--skip DeployPipelineE2ETests`, run it alone with `--filter DeployPipelineE2ETests`.
/// The QEMU part skips without the Arm toolchain, the TFLM part without tflite-micro.
final class DeployPipelineE2ETests: XCTestCase {
    func testTrainedCheckpointToDevice() throws {
        let (trained, norm, train, test) = try trainSmallNetwork(epochs: 4, seed: 5, trainCount: 800, testCount: 400)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-e2e-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(trained, to: path)
        let (net, _) = try Checkpoint.load(path)

        var settings = QuantizationSettings(); settings.calibrationBatches = 4
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: train, settings: settings)
        let r = try Int8Evaluation.evaluate(net, q, on: test, normalization: norm)
        print(String(format: "E2E int8: float %.2f%% int8 %.2f%% agreement %.2f%% on %d images", r.floatAccuracy * 100,
                     r.int8Accuracy * 100, r.top1Agreement * 100, r.count))
        XCTAssertGreaterThan(r.floatAccuracy, 0.6)
        XCTAssertLessThanOrEqual(abs(r.accuracyDrop), 0.01 + 1.0 / Double(r.count), "int8 within 1 point of float")

        let inputs = try NetworkQuantization.int8Inputs(q, spec: net.plan.spec, data: test, normalization: norm, count: 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-e2e-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let d = try DeviceCheck.run(q, plan: net.plan, inputs: inputs, target: try Target.named("stm32h743"), workDir: dir.appendingPathComponent("qemu"))
            print("E2E device:\n\(d.table)")
            XCTAssertTrue(d.outputsMatch, "QEMU Cortex-M7 outputs differ from the Swift int8 engine")
            XCTAssertEqual(d.report.arenaLinkedBytes, d.cost.peakSRAMBytes, "linked arena vs the cost model's peak SRAM")
            XCTAssertGreaterThan(d.flashBytes, d.cost.flash.total, "flash holds the constants plus code")
        } catch let DeployToolError.toolMissing(tool, apt) {
            print("E2E device: skipped, \(tool) missing (apt-get install -y \(apt))")
        }

        if let py = TFLMCheck.unavailableReason {
            print("E2E TFLM: skipped (\(py))")
        } else {
            let expected = try Int8Interpreter(model: q.model).run(inputs: [inputs[0]])[0]
            XCTAssertEqual(try TFLMCheck.run(q.model, input: inputs[0], in: dir), expected, "TFLM vs Swift int8 engine")
        }
    }
}

/// Minimal runner for scripts/tflm_run.py (the Deploy tests' harness lives in another test target).
enum TFLMCheck {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/tflm_run.py")

    static func python(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [ProcessInfo.processInfo.environment["TINYFORGE_PYTHON"] ?? "python3", script.path] + args
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        return p.terminationStatus
    }

    static let unavailableReason: String? = {
        guard let s = try? python(["--check"]) else { return "no python3" }
        return s == 0 ? nil : "tflite-micro not importable"
    }()

    static func run(_ model: QuantizedModel, input: [Int8], in dir: URL) throws -> [Int8] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let m = dir.appendingPathComponent("m.tflite"), i = dir.appendingPathComponent("i.bin"), o = dir.appendingPathComponent("o.bin")
        try Data(TFLiteWriter.serialize(model)).write(to: m)
        try Data(input.map { UInt8(bitPattern: $0) }).write(to: i)
        let status = try python(["--model", m.path, "--input", i.path, "--output", o.path])
        guard status == 0 else { throw DeployError.invalidFlatBuffer(reason: "tflm_run.py exited \(status)") }
        return try Data(contentsOf: o).map { Int8(bitPattern: $0) }
    }
}
