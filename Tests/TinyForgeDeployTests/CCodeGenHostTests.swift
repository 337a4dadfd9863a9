import Foundation
import TinyForgeDeploy
import XCTest

/// The generated C library compiled with the host `cc -std=c99 -Wall -Wextra -Werror -O2` and
/// run on seeded inputs: its bytes must equal `Int8Interpreter`'s (bit-exact with TFLM).
/// Skips when there is no `cc`. Run alone: swift test --filter CCodeGenHostTests
final class CCodeGenHostTests: XCTestCase {
    override func setUpWithError() throws {
        if ProcessInfo.processInfo.environment["PATH"].map({ $0.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/cc") } }) != true {
            throw XCTSkip("no host C compiler 'cc' on PATH (apt-get install -y gcc)")
        }
    }

    func assertHostBitExact(_ model: QuantizedModel, seed: UInt64, samples: Int = 3, tag: String,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-cgen-\(UUID().uuidString)")
        defer { if ProcessInfo.processInfo.environment["TINYFORGE_CGEN_KEEP"] != "1" { try? FileManager.default.removeItem(at: dir) } }
        let inputs = DeployModelZoo.inputs(model, count: samples, seed: seed)
        let r = try DeployCheck.runHost(model: model, inputs: inputs, workDir: dir)
        for s in r.samples {
            XCTAssertEqual(s.mismatches, 0, "\(tag) sample \(s.index): \(s.mismatches) of \(s.expected.count) bytes differ (max |Δ| \(s.maxAbsDiff))", file: file, line: line)
            XCTAssertGreaterThanOrEqual(Set(s.expected).count, 2, "\(tag): degenerate output", file: file, line: line)
        }
    }

    func testConvKernelsAndStrides() throws {
        var seed: UInt64 = 1
        for k in [1, 3, 5, 7] {
            for stride in [1, 2] {
                try assertHostBitExact(try DeployModelZoo.conv(k: k, stride: stride, act: .none, seed: seed), seed: seed, tag: "conv \(k)x\(k) s\(stride)")
                seed += 1
            }
        }
        try assertHostBitExact(try DeployModelZoo.conv(k: 3, stride: 2, act: .none, padding: .valid, seed: 40), seed: 40, tag: "conv valid")
    }

    func testConvFusedActivations() throws {
        for (i, act) in [DeployModelZoo.Act.leaky, .hswish, .swish].enumerated() {
            try assertHostBitExact(try DeployModelZoo.conv(k: 3, stride: 1, act: act, seed: 50 + UInt64(i)), seed: 50 + UInt64(i), tag: "conv+\(act)")
        }
    }

    func testDepthwiseInPlaceAndNot() throws {
        try assertHostBitExact(try DeployModelZoo.depthwise(k: 3, stride: 1, act: .none, seed: 60), seed: 60, tag: "dw3 s1 in place")
        try assertHostBitExact(try DeployModelZoo.depthwise(k: 5, stride: 1, act: .leaky, seed: 61), seed: 61, tag: "dw5 s1 leaky in place")
        try assertHostBitExact(try DeployModelZoo.depthwise(k: 7, stride: 1, act: .swish, swishGateFirst: true, seed: 62), seed: 62, tag: "dw7 s1 swish(gate first)")
        try assertHostBitExact(try DeployModelZoo.depthwise(k: 3, stride: 2, act: .hswish, seed: 63), seed: 63, tag: "dw3 s2 hswish")
        try assertHostBitExact(try DeployModelZoo.depthwise(k: 3, stride: 1, act: .none, padding: .valid, seed: 64), seed: 64, tag: "dw3 s1 valid")
    }

    func testMBConvBlocks() throws {
        try assertHostBitExact(try DeployModelZoo.mbconv(act: .leaky, seed: 70), seed: 70, tag: "mbconv leaky SE residual")
        try assertHostBitExact(try DeployModelZoo.mbconv(act: .swish, seed: 71), seed: 71, tag: "mbconv swish SE residual")
        try assertHostBitExact(try DeployModelZoo.mbconv(act: .hswish, se: false, seed: 72), seed: 72, tag: "mbconv hswish residual")
        try assertHostBitExact(try DeployModelZoo.mbconv(k: 5, act: .none, residual: false, seed: 73), seed: 73, tag: "mbconv relu6 SE")
    }

    func testStandaloneElementwiseSoftmaxRowsWidthMean() throws {
        let model = try DeployModelZoo.elementwise(seed: 90)
        let steps = try CCodeGenerator(model: model).memory.steps
        XCTAssertEqual(steps.map { $0.label(model) }, ["AVERAGE_POOL_2D", "HARD_SWISH (in place)", "LOGISTIC (in place)", "SOFTMAX", "MEAN"])
        try assertHostBitExact(model, seed: 90, samples: 3, tag: "elementwise")
    }

    func testClassifierPoolMeanFCSoftmax() throws {
        try assertHostBitExact(try DeployModelZoo.classifier(seed: 80), seed: 80, samples: 4, tag: "classifier")
    }
}
