import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeEngine
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

func pipelineSpec(_ json: String) -> ArchitectureSpec {
    try! ArchitectureSpec.decode(jsonText: json, source: "test").spec
}

/// Specs covering every block type, SE, residuals and every activation (same coverage as
/// the Deploy tests' zoo, built here against the engine).
let coverageSpecs: [ArchitectureSpec] = [
    pipelineSpec(#"{"name": "cov-a", "input": {"height": 12, "width": 12, "channels": 3}, "num_classes": 5, "stem": {"out_channels": 8, "kernel": 3, "stride": 2, "activation": "relu"}, "stages": [{"block": "conv", "out_channels": 8, "kernel": 5, "activation": "relu6"}, {"block": "basic", "out_channels": 12, "kernel": 3, "stride": 2, "activation": "swish", "skip": "residual_full"}], "head": {"conv_channels": 16, "activation": "hswish", "dropout": 0}}"#),
    pipelineSpec(#"{"name": "cov-b", "input": {"height": 10, "width": 10, "channels": 2}, "num_classes": 4, "stages": [{"block": "dsconv", "out_channels": 8, "kernel": 3, "stride": 2, "se_ratio": 0.25, "activation": "leaky_relu"}, {"block": "mbconv", "repeats": 2, "out_channels": 12, "kernel": 5, "stride": 1, "expansion": 3, "se_ratio": 0.5, "activation": "hswish", "skip": "residual"}], "head": {"dropout": 0}}"#),
    pipelineSpec(#"{"name": "cov-c", "input": {"height": 9, "width": 9, "channels": 1}, "num_classes": 3, "stem": {"out_channels": 8, "kernel": 3, "stride": 1, "activation": "swish"}, "stages": [{"block": "fused_mbconv", "out_channels": 8, "kernel": 3, "stride": 2, "expansion": 2, "se_ratio": 0.25, "activation": "relu"}, {"block": "dsconv", "repeats": 2, "out_channels": 8, "kernel": 7, "stride": 1, "activation": "swish", "skip": "residual"}], "head": {"dropout": 0}}"#),
]

/// Randomises the BN affine parameters and running statistics so folding is exercised
/// (a fresh network has γ = 1, β = 0, mean 0, var 1).
func perturbBatchNorm(_ net: Network, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    for p in net.parameters where p.name.hasSuffix(".bn.weight") { for i in 0..<p.value.count { p.value[i] = 0.5 + rng.nextFloat() } }
    for p in net.parameters where p.name.hasSuffix(".bn.bias") || (p.name.hasSuffix(".bias") && !p.name.contains("bn")) {
        for i in 0..<p.value.count { p.value[i] = 0.2 * rng.nextGaussian() }
    }
    for b in net.buffers {
        for i in 0..<b.value.count {
            b.value[i] = b.name.hasSuffix("running_var") ? 0.5 + 1.5 * rng.nextFloat() : 0.3 * rng.nextGaussian()
        }
    }
}

final class NetworkQuantizationTests: XCTestCase {
    /// The names and shapes the lowering expects are exactly the engine network's parameters
    /// and buffers (what checkpoints hold).
    func testExpectedTensorsAreTheNetworksParameters() throws {
        var rng = SeededGenerator(seed: 3)
        var specs = coverageSpecs
        for _ in 0..<6 { specs.append(try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)) }
        for spec in specs {
            let net = try Network(spec: spec, seed: 1, threads: 1)
            let expected = PlanWeights.expectedTensors(net.plan)
            var actual = net.parameters.map { ($0.name, $0.value.shape) } + net.buffers.map { ($0.name, $0.value.shape) }
            actual.sort { $0.0 < $1.0 }
            let e = expected.map { ($0.name, $0.shape) }.sorted { $0.0 < $1.0 }
            XCTAssertEqual(e.map(\.0), actual.map(\.0), spec.name ?? "")
            XCTAssertEqual(e.map(\.1), actual.map(\.1), spec.name ?? "")
            XCTAssertNoThrow(try PlanWeights(network: net).validate(against: net.plan))
        }
    }

    /// One engine ConvBNAct in eval mode equals the folded conv of the float graph, for full
    /// and depthwise convs, kernels 1–7, stride 1 and 2 on even and odd inputs.
    func testFoldedConvEqualsEngineConvBNInEvalMode() throws {
        let cases: [(String, Int, Int, Int)] = [("conv", 3, 2, 10), ("conv", 1, 1, 7), ("conv", 7, 2, 12), ("conv", 5, 2, 9),
                                                ("dsconv", 3, 2, 10), ("dsconv", 5, 1, 8), ("dsconv", 7, 2, 11)]
        for (block, k, s, hw) in cases {
            let spec = pipelineSpec(#"{"input": {"height": \#(hw), "width": \#(hw), "channels": 4}, "num_classes": 2, "stages": [{"block": "\#(block)", "out_channels": 4, "kernel": \#(k), "stride": \#(s), "activation": "hswish"}], "head": {"dropout": 0}}"#)
            let net = try Network(spec: spec, seed: 9, threads: 1)
            perturbBatchNorm(net, seed: 10)
            let graph = try FloatGraph(plan: net.plan, weights: PlanWeights(network: net))
            // The engine layer: rebuild it standalone with the network's weights.
            let op = net.plan.ops[0]
            var rng = SeededGenerator(seed: 1)
            let pool = ThreadPool(threads: 1)
            let layer = try ConvBNAct(cin: 4, cout: 4, kernel: k, stride: s, groups: op.kind == .depthwiseConv2d ? 4 : 1,
                                      batchNorm: true, activation: nil, pool: pool, rng: &rng)
            let w = PlanWeights(network: net).tensors
            func copy(_ t: Tensor?, _ name: String) { let v = w[name]!.values; for i in 0..<v.count { t![i] = v[i] } }
            copy(layer.weight, "\(op.role).weight"); copy(layer.gamma, "\(op.role).bn.weight"); copy(layer.beta, "\(op.role).bn.bias")
            copy(layer.runningMean, "\(op.role).running_mean"); copy(layer.runningVar, "\(op.role).running_var")
            let x = Tensor(shape: [2, hw, hw, 4])
            for i in 0..<x.count { x[i] = rng.nextGaussian() }
            let engine = layer.forward(x, training: false)
            // The graph's conv node (the first node; its activation follows as a separate HARD_SWISH node).
            var folded = [Float]()
            _ = try FloatGraphExecutor(graph: graph, threads: 1).run(Array(UnsafeBufferPointer(start: x.data, count: x.count)), count: 2) { id, v in
                if id == graph.nodes[0].output { folded = v }
            }
            XCTAssertEqual(folded.count, engine.count, "\(block) k\(k) s\(s) \(hw)")
            var maxErr: Float = 0
            for i in 0..<engine.count { maxErr = max(maxErr, abs(folded[i] - engine[i])) }
            XCTAssertLessThan(maxErr, 1e-4, "\(block) k\(k) s\(s) on \(hw)×\(hw): max |folded − engine conv→BN| = \(maxErr)")
        }
    }

    /// The whole float graph (folded, lowered, activations split) reproduces the engine's
    /// eval-mode logits for every block type, SE, residual and activation.
    func testFloatGraphEqualsEngineNetwork() throws {
        for (i, spec) in coverageSpecs.enumerated() {
            let net = try Network(spec: spec, seed: UInt64(20 + i), threads: 1)
            perturbBatchNorm(net, seed: UInt64(30 + i))
            let graph = try FloatGraph(plan: net.plan, weights: PlanWeights(network: net))
            var rng = SeededGenerator(seed: 5)
            let x = Tensor(shape: [3, spec.input.height, spec.input.width, spec.input.channels])
            for j in 0..<x.count { x[j] = rng.nextGaussian() }
            let logits = net.forward(x, training: false)
            let g = try FloatGraphExecutor(graph: graph, threads: 1).run(Array(UnsafeBufferPointer(start: x.data, count: x.count)), count: 3)
            let scale = max(1e-3, (0..<logits.count).map { abs(logits[$0]) }.max()!)
            let err = (0..<logits.count).map { abs(logits[$0] - g[$0]) }.max()!
            XCTAssertLessThan(err / scale, 1e-4, "\(spec.name!): max relative |graph − engine| logits")
        }
    }
}
