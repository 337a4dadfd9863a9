import Foundation
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// Fusion, in-place decisions and the arena plan of the C runtime (pure Swift, fast), the
/// agreement with the cost model's `ActivationMemory`, and the generator's typed errors.
final class DeployPlanTests: XCTestCase {
    func testMBConvFusionAndInPlace() throws {
        let model = try DeployModelZoo.mbconv(act: .leaky, seed: 70)
        let gen = try CCodeGenerator(model: model)
        let labels = gen.memory.steps.map { $0.label(model) }
        XCTAssertEqual(labels, ["CONV_2D+LEAKY_RELU", "DEPTHWISE_CONV_2D+LEAKY_RELU (in place)", "MEAN", "FULLY_CONNECTED",
                                "FULLY_CONNECTED+LOGISTIC", "MUL (in place)", "CONV_2D", "ADD (in place)"])
        // Pre-activation tensors are never materialised.
        for case let .leakyRelu(o) in model.ops { XCTAssertNil(gen.memory.tensorOffsets[o.input]) }
        // The depthwise plane scratch is H·W = 64 bytes.
        XCTAssertEqual(gen.memory.steps[1].scratchBytes, 64)
        assertNoOverlap(gen.memory)
    }

    func testSwishFusesInEitherOperandOrder() throws {
        for gateFirst in [false, true] {
            let model = try DeployModelZoo.depthwise(k: 3, stride: 1, act: .swish, swishGateFirst: gateFirst, seed: 62)
            let steps = try CCodeGenerator(model: model).memory.steps
            XCTAssertEqual(steps.map { $0.label(model) }, ["CONV_2D+LOGISTIC+MUL", "DEPTHWISE_CONV_2D+LOGISTIC+MUL (in place)", "CONV_2D"])
        }
    }

    func testNoInPlaceWhenInputLivesOnOrShapesDiffer() throws {
        // Stride 2 and VALID padding change the plane; a model output must survive.
        for model in [try DeployModelZoo.depthwise(k: 3, stride: 2, act: .none, seed: 63),
                      try DeployModelZoo.depthwise(k: 3, stride: 1, act: .none, padding: .valid, seed: 64)] {
            XCTAssertNil(try CCodeGenerator(model: model).memory.steps[1].inPlaceOver)
        }
        var src = RandomModelSource(seed: 5)
        var b = QuantizedModelBuilder(name: "reuse")
        let x = b.addInput(name: "x", shape: [1, 6, 6, 4], quant: try src.range(magnitude: 2))
        let d = try b.depthwiseConv2d(x, weights: src.weights(count: 36, fanIn: 9, channels: 4, channelStride: 1), kernelH: 3, kernelW: 3,
                                      bias: nil, output: try src.range(magnitude: 3), name: "dw")
        let y = try b.add(d, x, output: try src.range(magnitude: 4), name: "add")   // x is read after the dw
        let gen = try CCodeGenerator(model: try b.build(outputs: [y]))
        XCTAssertNil(gen.memory.steps[0].inPlaceOver)
        XCTAssertNotNil(gen.memory.steps[1].inPlaceOver)
        assertNoOverlap(gen.memory)
    }

    /// The generator's plan equals the cost model's (`ActivationMemory`, `.tinyforge`) step
    /// for step, on networks lowered from specs (leaky / swish / hswish / relu6, SE, residual).
    func testAgreesWithActivationMemory() throws {
        let specs: [(Activation, BlockType, Double, SkipType)] = [
            (.leakyRelu, .mbconv, 0.25, .residual), (.swish, .mbconv, 0.25, .residual),
            (.hswish, .dsconv, 0, .none), (.relu6, .mbconv, 0.5, .residual),
        ]
        for (i, (act, block, se, skip)) in specs.enumerated() {
            let spec = ArchitectureSpec(
                name: "plan\(i)", input: InputShape(height: 20, width: 20, channels: 3), numClasses: 10,
                stem: StemSpec(outChannels: 16, kernel: 3, stride: 2, activation: act),
                stages: [StageSpec(block: block, repeats: 2, outChannels: 16, kernel: 3, stride: 1, expansion: 4,
                                   seRatio: se, activation: act, skip: skip),
                         StageSpec(block: block, repeats: 1, outChannels: 24, kernel: 5, stride: 2, expansion: 3,
                                   seRatio: se, activation: act, skip: skip)])
            let lp = LayerPlan(spec: spec)
            let model = try LayerPlanToQuantized.model(lp, seed: UInt64(100 + i))
            let ours = try CCodeGenerator(model: model).memory
            let cost = ActivationMemory(plan: lp, runtime: .tinyforgeC)
            XCTAssertEqual(ours.steps.count, lp.ops.count, "\(act): one fused kernel per plan op")
            XCTAssertEqual(ours.liveBytesPerStep, cost.steps.map(\.liveBytes), "\(act) \(block): live bytes per step")
            XCTAssertEqual(ours.lowerBound, cost.lowerBound, "\(act) \(block): lower bound")
            XCTAssertEqual(ours.arenaBytes, cost.arenaBytes, "\(act) \(block): arena")
            XCTAssertEqual(ours.steps.map { $0.inPlaceOver != nil }, cost.steps.map(\.inPlace), "\(act) \(block): in-place steps")
            assertNoOverlap(ours)
        }
    }

    func testGeneratedCHasNoFloatNoMalloc() throws {
        let lib = try CCodeGenerator(model: try DeployModelZoo.classifier(seed: 80)).generate()
        for name in ["kernels.h", "kernels.c", "model.c", "weights.c", "weights.h"] {
            // Code only: comments may say "doubling".
            let code = lib.files[name]!.replacingOccurrences(of: #"/\*[\s\S]*?\*/"#, with: " ", options: .regularExpression)
            for pattern in [#"\bfloat\b"#, #"\bdouble\b"#, #"\bmalloc\b"#, #"\bfree\b"#, #"\b[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?f?\b"#] {
                XCTAssertNil(code.range(of: pattern, options: .regularExpression), "\(name) matches \(pattern)")
            }
        }
        // The check itself can fire: model.h's scale macros are float literals (for the user only).
        XCTAssertNotNil(lib.files["model.h"]!.range(of: #"\b[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?f?\b"#, options: .regularExpression))
        XCTAssertTrue(lib.files["model.c"]!.contains("static int8_t arena[TF_MODEL_ARENA_BYTES] __attribute__((aligned(16)));"))
        XCTAssertTrue(lib.files["model.h"]!.contains("#define TF_MODEL_ARENA_BYTES \(lib.memory.arenaBytes)"))
        XCTAssertTrue(lib.files["model.h"]!.contains("int tf_model_invoke(const int8_t *input, int8_t *output);"))
    }

    // MARK: - Errors

    func testTwoInputsAreRejectedByName() throws {
        var src = RandomModelSource(seed: 9)
        var b = QuantizedModelBuilder(name: "two")
        let a = b.addInput(name: "left", shape: [1, 2, 2, 4], quant: try src.range(magnitude: 1))
        let c = b.addInput(name: "right", shape: [1, 2, 2, 4], quant: try src.range(magnitude: 1))
        let y = try b.add(a, c, output: try src.range(magnitude: 2), name: "sum")
        XCTAssertThrowsError(try CCodeGenerator(model: try b.build(outputs: [y]))) { e in
            guard case let DeployError.inputMismatch(reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("left") && reason.contains("right"), reason)
        }
    }

    func testTensorWrittenTwiceIsRejected() throws {
        var src = RandomModelSource(seed: 10)
        var b = QuantizedModelBuilder(name: "twice")
        let x = b.addInput(name: "x", shape: [1, 4], quant: try src.range(magnitude: 1))
        let y = b.logistic(x, name: "gate")
        var m = try b.build(outputs: [y])
        m.ops.append(.logistic(UnaryOp(input: x, output: y)))   // a second producer of 'gate'
        XCTAssertThrowsError(try CCodeGenerator(model: m)) { e in
            guard case let DeployError.unsupported(op, kind, reason) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(op, 1); XCTAssertEqual(kind, "LOGISTIC")
            XCTAssertTrue(reason.contains("'gate'") && reason.contains("op #0"), reason)
        }
    }

    func testConstantOutputIsRejected() throws {
        var src = RandomModelSource(seed: 13)
        var b = QuantizedModelBuilder(name: "const-out")
        let x = b.addInput(name: "x", shape: [1, 4], quant: try src.range(magnitude: 1))
        _ = b.logistic(x, name: "gate")
        let c = b.addTensor(QTensor(name: "table", shape: [1, 4], type: .int8, quant: try src.range(magnitude: 1), data: .int8([1, 2, 3, 4])))
        XCTAssertThrowsError(try CCodeGenerator(model: try b.build(outputs: [c]))) { e in
            guard case let DeployError.inputMismatch(reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("'table'"), reason)
        }
    }

    func testRankFiveTensorIsRejected() throws {
        var src = RandomModelSource(seed: 11)
        var b = QuantizedModelBuilder(name: "rank5")
        let x = b.addInput(name: "volume", shape: [1, 2, 3, 4, 5], quant: try src.range(magnitude: 1))
        let y = try b.mean(x, axes: [1, 2], keepDims: true, output: try src.range(magnitude: 1), name: "pool")
        XCTAssertThrowsError(try CCodeGenerator(model: try b.build(outputs: [y]))) { e in
            guard case let DeployError.unsupported(_, kind, reason) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(kind, "MEAN")
            XCTAssertTrue(reason.contains("'volume'") && reason.contains("rank 5"), reason)
        }
    }

    func testInterpreterRejectionPropagates() throws {
        var src = RandomModelSource(seed: 12)
        var b = QuantizedModelBuilder(name: "dm2")
        let x = b.addInput(name: "x", shape: [1, 4, 4, 2], quant: try src.range(magnitude: 1))
        let y = try b.depthwiseConv2d(x, weights: src.weights(count: 18, fanIn: 9, channels: 2, channelStride: 1), kernelH: 3, kernelW: 3,
                                      bias: nil, output: try src.range(magnitude: 1), name: "dw")
        var m = try b.build(outputs: [y])
        m.tensors[y].shape = [1, 4, 4, 4]   // depth multiplier 2: not supported
        XCTAssertThrowsError(try CCodeGenerator(model: m)) { e in
            guard case let DeployError.unsupported(op, kind, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(op, 0); XCTAssertEqual(kind, "DEPTHWISE_CONV_2D")
        }
    }

    func testMissingToolchainIsATypedErrorNamingThePackage() throws {
        let model = try DeployModelZoo.conv(k: 1, stride: 1, act: .none, seed: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-notools-\(UUID().uuidString)")
        XCTAssertThrowsError(try DeployCheck.run(model: model, inputs: DeployModelZoo.inputs(model, count: 1, seed: 1),
                                                 workDir: dir, searchPath: "/nonexistent-tinyforge")) { e in
            XCTAssertEqual(e as? DeployToolError, .toolMissing(tool: "arm-none-eabi-gcc", aptPackage: "gcc-arm-none-eabi libnewlib-arm-none-eabi"))
            XCTAssertTrue("\(e)".contains("apt-get install -y gcc-arm-none-eabi"), "\(e)")
        }
        XCTAssertThrowsError(try DeployCheck.runHost(model: model, inputs: [[0]], workDir: dir, searchPath: "/nonexistent-tinyforge")) { e in
            XCTAssertEqual(e as? DeployToolError, .toolMissing(tool: "cc", aptPackage: "gcc"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path), "nothing is written when a tool is missing")
    }

    /// Buffers alive at a common step never share a byte, and every offset is 16-aligned.
    func assertNoOverlap(_ m: DeployMemoryPlan, file: StaticString = #filePath, line: UInt = #line) {
        let p = m.plan.placements
        for a in p {
            XCTAssertEqual(a.offset % 16, 0, file: file, line: line)
            XCTAssertLessThanOrEqual(a.end, m.arenaBytes, file: file, line: line)
            for b in p where a.id < b.id && a.firstStep <= b.lastStep && b.firstStep <= a.lastStep && a.size > 0 && b.size > 0 {
                XCTAssertTrue(a.end <= b.offset || b.end <= a.offset, "buffers \(a.id) and \(b.id) overlap", file: file, line: line)
            }
        }
    }
}
