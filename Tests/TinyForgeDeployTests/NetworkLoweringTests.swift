import Foundation
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// The network-level lowering (LayerPlan + weights → float graph → int8 model): op mapping,
/// BN folding against a plain conv→BN reference, the PyTorch-padding emulation, calibration,
/// int8 vs float agreement, and the typed errors. Fast (random weights, tiny inputs).
final class NetworkLoweringTests: XCTestCase {
    func testMBConvSwishSEResidualMapsToTFLiteOps() throws {
        let spec = NetworkSpecZoo.spec(#"""
        {"name": "one-block", "input": {"height": 8, "width": 8, "channels": 8}, "num_classes": 4,
         "stages": [{"block": "mbconv", "out_channels": 8, "kernel": 3, "stride": 1, "expansion": 2, "se_ratio": 0.25,
                     "activation": "swish", "skip": "residual"}], "head": {"dropout": 0}}
        """#)
        let (q, _) = try LayerPlanToQuantized.calibrated(LayerPlan(spec: spec), seed: 1, softmax: true)
        XCTAssertEqual(q.model.ops.map(\.kind), [
            "CONV_2D", "LOGISTIC", "MUL",                       // expand + swish
            "DEPTHWISE_CONV_2D", "LOGISTIC", "MUL",             // dw + swish
            "MEAN", "CONV_2D", "CONV_2D", "LOGISTIC", "MUL",    // SE: squeeze, reduce (relu fused), expand, gate, scale
            "CONV_2D", "ADD",                                   // project, residual
            "MEAN", "FULLY_CONNECTED", "SOFTMAX",               // head
        ])
        XCTAssertEqual(q.opRoles[7], "stages[0].layers[0].se.reduce")
        guard case let .conv2d(reduce) = q.model.ops[7] else { return XCTFail("SE reduce is not a CONV_2D") }
        XCTAssertEqual(reduce.activation, .relu)
        // Weights per-channel symmetric, biases int32 with scale s_in·s_w.
        let w = q.model.tensors[reduce.filter], b = q.model.tensors[reduce.bias!]
        XCTAssertEqual(w.quant!.scales.count, 4); XCTAssertTrue(w.quant!.zeroPoints.allSatisfy { $0 == 0 })
        XCTAssertEqual(b.type, .int32)
        let sIn = q.model.tensors[reduce.input].quant!.scale
        for c in 0..<4 { XCTAssertEqual(b.quant!.scales[c], sIn * w.quant!.scales[c], accuracy: 1e-12) }
        XCTAssertEqual(q.model.tensors[q.model.outputs[0]].shape, [1, 4])
    }

    func testPyTorchPaddingEmulation() throws {
        // (input, kernel, stride) → (TFLite kernel, pad before)
        let cases: [((Int, Int, Int), (Int, Int))] = [
            ((16, 3, 2), (4, 1)), ((15, 3, 2), (3, 1)), ((16, 3, 1), (3, 1)), ((16, 1, 2), (1, 0)),
            ((10, 5, 2), (6, 2)), ((9, 7, 2), (7, 3)), ((80, 7, 2), (8, 3)), ((17, 3, 3), (4, 1)),
        ]
        for ((n, k, s), (kk, p)) in cases {
            let r = try FloatGraph.pytorchPadding(input: n, kernel: k, stride: s)
            XCTAssertEqual(r.kernel, kk, "in \(n) k \(k) s \(s)"); XCTAssertEqual(r.padBefore, p, "in \(n) k \(k) s \(s)")
        }
        XCTAssertThrowsError(try FloatGraph.pytorchPadding(input: 18, kernel: 3, stride: 3))
    }

    /// Folded conv (graph executor) == conv → BN (running stats) → act computed the plain way,
    /// for full and depthwise convs, k 1/3/5, stride 1/2 on an even input (widened kernel).
    func testBatchNormFoldingMatchesConvThenBatchNorm() throws {
        for (block, k, stride) in [("conv", 3, 2), ("conv", 1, 1), ("conv", 5, 2), ("dsconv", 3, 2), ("dsconv", 5, 1)] {
            let spec = NetworkSpecZoo.spec(#"""
            {"input": {"height": 10, "width": 10, "channels": 6}, "num_classes": 3,
             "stages": [{"block": "\#(block)", "out_channels": 6, "kernel": \#(k), "stride": \#(stride), "activation": "relu6"}],
             "head": {"dropout": 0}}
            """#)
            let lp = LayerPlan(spec: spec)
            let weights = RandomPlanWeights.make(lp, seed: 5)
            let graph = try FloatGraph(plan: lp, weights: weights)
            var rng = SeededGenerator(seed: 6)
            let x = (0..<(2 * 600)).map { _ in rng.nextGaussian() }
            let op = lp.ops[0]
            var folded = [Float]()
            _ = try FloatGraphExecutor(graph: graph).run(x, count: 2) { id, v in if id == graph.nodes[0].output { folded = v } }
            let ref = Self.convThenBN(x, n: 2, hw: 10, c: 6, op: op, weights: weights, act: block == "conv" ? .relu6 : .relu6)
            XCTAssertEqual(folded.count, ref.count)
            let err = zip(folded, ref).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(err, 1e-4, "\(block) k\(k) s\(stride): max |folded − conv→BN| = \(err)")
            XCTAssertGreaterThan(Set(ref.map { ($0 * 100).rounded() }).count, 20, "reference output is degenerate")
        }
    }

    /// Reference twin: PyTorch conv (pad k/2 each side, no bias) → BN eval → clamp, plain loops.
    static func convThenBN(_ x: [Float], n: Int, hw: Int, c: Int, op: PlanOp, weights: PlanWeights, act: FusedActivation) -> [Float] {
        let k = op.kernel, s = op.stride, p = k / 2, oh = (hw + 2 * p - k) / s + 1, cout = op.outChannels
        let dw = op.kind == .depthwiseConv2d
        let w = weights.tensors["\(op.role).weight"]!.values
        let g = weights.tensors["\(op.role).bn.weight"]!.values, b = weights.tensors["\(op.role).bn.bias"]!.values
        let m = weights.tensors["\(op.role).running_mean"]!.values, v = weights.tensors["\(op.role).running_var"]!.values
        var y = [Float]()
        for img in 0..<n { for oy in 0..<oh { for ox in 0..<oh { for o in 0..<cout {
            var acc: Float = 0
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * s - p + ky, ix = ox * s - p + kx
                guard iy >= 0, iy < hw, ix >= 0, ix < hw else { continue }
                let px = ((img * hw + iy) * hw + ix) * c
                if dw { acc += x[px + o] * w[(ky * k + kx) * cout + o]; continue }
                for i in 0..<c { acc += x[px + i] * w[((ky * k + kx) * c + i) * cout + o] }
            } }
            let bn = (acc - m[o]) / (v[o] + 1e-5).squareRoot() * g[o] + b[o]
            y.append(act == .relu6 ? min(max(bn, 0), 6) : bn)
        } } } }
        return y
    }

    /// Dequantised int8 outputs follow the float graph closely on every zoo network.
    func testInt8TracksFloatGraph() throws {
        for spec in NetworkSpecZoo.all {
            let lp = LayerPlan(spec: spec)
            let (q, xs) = try LayerPlanToQuantized.calibrated(lp, seed: 11, images: 6)
            let interp = try Int8Interpreter(model: q.model)
            let exec = FloatGraphExecutor(graph: q.graph)
            var errSum: Float = 0, rangeSum: Float = 0
            for x in xs {
                let f = try exec.run(x, count: 1)
                let i8 = q.dequantizeOutput(try interp.run(inputs: [q.quantizeInput(x[...])])[0])
                errSum += zip(f, i8).map { abs($0 - $1) }.reduce(0, +) / Float(f.count)
                rangeSum += f.max()! - f.min()!
            }
            XCTAssertLessThan(errSum / rangeSum, 0.08, "\(spec.name!): mean |int8 − float| relative to the output range")
        }
    }

    func testPercentileRangesAreInsideMinMax() throws {
        let lp = LayerPlan(spec: NetworkSpecZoo.dsMB)
        let graph = try FloatGraph(plan: lp, weights: RandomPlanWeights.make(lp, seed: 3))
        var mm = try ActivationCalibrator(graph: graph), pc = try ActivationCalibrator(graph: graph, method: .percentile(99))
        var rng = SeededGenerator(seed: 4)
        let x = (0..<(4 * 1200)).map { _ in rng.nextGaussian() }
        try mm.observe(x, count: 4); try pc.observe(x, count: 4)
        var narrower = 0
        for t in graph.tensors.indices {
            let a = try mm.range(t), b = try pc.range(t)
            XCTAssertLessThanOrEqual(a.min, b.min); XCTAssertGreaterThanOrEqual(a.max, b.max)
            if b.max - b.min < a.max - a.min { narrower += 1 }
        }
        XCTAssertGreaterThan(narrower, graph.tensors.count / 2)
        XCTAssertThrowsError(try ActivationCalibrator(graph: graph, method: .percentile(30)))
    }

    // MARK: - Errors

    func testLayerThatCannotBeQuantisedIsNamed() throws {
        var lp = LayerPlan(spec: NetworkSpecZoo.fused)
        let pool = lp.ops.firstIndex { $0.role == "head.pool" }!
        lp.ops[pool].activation = .relu
        XCTAssertThrowsError(try FloatGraph(plan: lp, weights: RandomPlanWeights.make(lp, seed: 1))) { e in
            guard case let NetworkQuantizationError.layer(role, reason) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(role, "head.pool")
            XCTAssertTrue(reason.contains("MEAN") || reason.contains("global_avg_pool"), reason)
            XCTAssertTrue("\(e)".hasPrefix("layer head.pool: cannot be quantised to int8"), "\(e)")
        }
        let stride3 = ArchitectureSpec(name: "s3", input: InputShape(height: 18, width: 18, channels: 3), numClasses: 4,
                                       stem: StemSpec(outChannels: 8, kernel: 3, stride: 3, activation: .relu),
                                       stages: [StageSpec(block: .conv, outChannels: 8)])
        let lp3 = LayerPlan(spec: stride3)
        XCTAssertThrowsError(try FloatGraph(plan: lp3, weights: RandomPlanWeights.make(lp3, seed: 1))) { e in
            guard case let NetworkQuantizationError.layer(role, reason) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(role, "stem"); XCTAssertTrue(reason.contains("stride 3"), reason)
        }
    }

    func testWeightsThatDoNotMatchArePrecise() throws {
        let lp = LayerPlan(spec: NetworkSpecZoo.convBasic)
        let good = RandomPlanWeights.make(lp, seed: 2)
        func expectWeightsError(_ w: PlanWeights, name: String, containing text: String, line: UInt = #line) {
            XCTAssertThrowsError(try PostTrainingQuantizer(plan: lp, weights: w), line: line) { e in
                guard case let NetworkQuantizationError.weights(n, reason) = e else { return XCTFail("\(e)", line: line) }
                XCTAssertEqual(n, name, line: line); XCTAssertTrue(reason.contains(text), "\(reason)", line: line)
            }
        }
        var w = good; w.tensors["stem.weight"] = nil
        expectWeightsError(w, name: "stem.weight", containing: "missing")
        w = good; w.tensors["stages[1].layers[0].conv1.weight"]!.shape = [3, 3, 12, 8]
        expectWeightsError(w, name: "stages[1].layers[0].conv1.weight", containing: "[3, 3, 12, 16]")
        w = good; w.tensors["head.classifier.bias"]!.values[3] = .nan
        expectWeightsError(w, name: "head.classifier.bias", containing: "element 3")
        w = good; w.tensors["stages[9].layers[0].dw.weight"] = WeightTensor(shape: [1], values: [0])
        expectWeightsError(w, name: "stages[9].layers[0].dw.weight", containing: "another network")
        w = good; w.tensors["stem.running_var"]!.values[0] = -1
        expectWeightsError(w, name: "stem.running_var", containing: "negative")
    }

    func testCalibrationNeedsData() throws {
        let lp = LayerPlan(spec: NetworkSpecZoo.fused)
        let q = try PostTrainingQuantizer(plan: lp, weights: RandomPlanWeights.make(lp, seed: 1))
        XCTAssertThrowsError(try q.finish()) { e in
            guard case NetworkQuantizationError.calibration = e else { return XCTFail("\(e)") }
        }
        var q2 = q
        XCTAssertThrowsError(try q2.observe([1, 2, 3], count: 1)) { e in XCTAssertTrue("\(e)".contains("144"), "\(e)") }
    }
}
