import Foundation
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// Whole networks lowered by the real pipeline (`PostTrainingQuantizer`: BN folding, TFLite
/// op mapping, calibration), written with `TFLiteWriter`, loaded by the real TFLM interpreter
/// and by LiteRT: TFLM's int8 outputs must be byte-identical to `Int8Interpreter`'s. The
/// architectures cover every block type, SE, residuals and every activation
/// (`NetworkSpecZoo`). Skips cleanly without the Python packages (tflite-micro, ai-edge-litert).
/// Run alone with: swift test --filter NetworkTFLMInteropTests
final class NetworkTFLMInteropTests: XCTestCase {
    override func setUpWithError() throws { try TFLMHarness.skipIfUnavailable() }

    func assertNetworkBitExact(_ spec: ArchitectureSpec, softmax: Bool = false, seed: UInt64,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let lp = LayerPlan(spec: spec)
        let (q, xs) = try LayerPlanToQuantized.calibrated(lp, seed: seed, images: 4, softmax: softmax)
        // Device-style inputs: calibration images quantised with the model's input parameters.
        let inputs = xs.prefix(3).map { q.quantizeInput($0[...]) }
        let interp = try Int8Interpreter(model: q.model)
        let swift = try inputs.flatMap { try interp.run(inputs: [$0])[0] }
        // tflm_run.py takes one input per invoke: run each sample.
        var tflm = [Int8](), litert = [Int8](), litertStatus = [String]()
        var arena: Int?
        for (k, x) in inputs.enumerated() {
            let r = try TFLMHarness.run(q.model, inputs: [x], tag: "\(spec.name!)-\(k)")
            tflm += r.tflm
            litert += r.litert ?? []
            litertStatus.append(r.json["litert"] as? String ?? "missing")
            arena = r.arenaTotal
        }
        XCTAssertEqual(tflm.count, swift.count, "\(spec.name!): output size", file: file, line: line)
        let mismatches = zip(tflm, swift).filter { $0 != $1 }.count
        XCTAssertEqual(mismatches, 0, "\(spec.name!): \(mismatches) of \(swift.count) int8 outputs differ between TFLM and Int8Interpreter",
                       file: file, line: line)
        XCTAssertTrue(litertStatus.allSatisfy { $0 == "ok" }, "\(spec.name!): LiteRT did not load/run the model: \(litertStatus)",
                      file: file, line: line)
        XCTAssertGreaterThanOrEqual(Set(swift).count, 3, "\(spec.name!): degenerate output", file: file, line: line)
        let lrDiff = litert.count == swift.count ? zip(litert, swift).map { abs(Int($0) - Int($1)) } : []
        print("NETWORK-TFLM \(spec.name!)\(softmax ? "+softmax" : ""): \(q.model.ops.count) ops (\(Set(q.model.ops.map(\.kind)).sorted().joined(separator: ","))), \(inputs.count) samples, TFLM bit-exact=\(mismatches == 0), TFLM arena \(arena.map(String.init) ?? "?") B, LiteRT \(lrDiff.isEmpty ? "n/a" : "\(lrDiff.filter { $0 != 0 }.count) differ, max |Δ| \(lrDiff.max()!)")")
    }

    func testConvAndBasicBlocks() throws { try assertNetworkBitExact(NetworkSpecZoo.convBasic, seed: 41) }
    func testDepthwiseAndMBConvWithSE() throws { try assertNetworkBitExact(NetworkSpecZoo.dsMB, seed: 42) }
    func testFusedMBConvAndSwish() throws { try assertNetworkBitExact(NetworkSpecZoo.fused, softmax: true, seed: 43) }
}
