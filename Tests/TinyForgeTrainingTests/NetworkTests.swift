import Foundation
import XCTest
import TinyForgeData
import TinyForgeEngine
import TinyForgeHardware
import TinyForgeSpec
@testable import TinyForgeTraining

func tinySpec(_ stages: String, input: String = #"{"height": 8, "width": 8, "channels": 3}"#, classes: Int = 4,
              stem: String = "") -> ArchitectureSpec {
    try! ArchitectureSpec.decode(jsonText: #"{"input": \#(input), "num_classes": \#(classes), \#(stem) "stages": \#(stages), "head": {"dropout": 0}}"#).spec
}

final class NetworkTests: XCTestCase {
    /// The engine network has exactly the parameters the cost model counts, for every block
    /// type, SE, every skip rule and activation.
    func testParameterCountEqualsCostModel() throws {
        var rng = SeededGenerator(seed: 8)
        for space in [SearchSpace.mcu28, SearchSpace.mcu32] {
            for _ in 0..<15 {
                let spec = try space.sample(numClasses: 10, using: &rng)
                let net = try Network(spec: spec, seed: 1, threads: 1)
                XCTAssertEqual(net.parameterCount, LayerPlan(spec: spec).params)
            }
        }
        for name in ["resnet8", "vww", "qwnet-core"] {
            let spec = ReferenceNetworks.spec(name)!
            XCTAssertEqual(try Network(spec: spec, seed: 1, threads: 1).parameterCount, LayerPlan(spec: spec).params, name)
        }
    }

    /// An expansion-1 mbconv has no expansion conv in the engine either: the parameters are
    /// the plan's, under the schedule's weight names, and the network runs.
    func testExpansionOneMBConvHasNoExpansionConv() throws {
        let spec = tinySpec(#"""
        [{"block": "mbconv", "out_channels": 6, "expansion": 1, "kernel": 3, "se_ratio": 0.5, "activation": "relu6", "skip": "residual"},
         {"block": "mbconv", "out_channels": 8, "expansion": 1, "kernel": 3, "activation": "swish", "skip": "residual"}]
        """#, stem: #""stem": {"out_channels": 6, "kernel": 3, "stride": 1, "activation": "relu6"},"#)
        let net = try Network(spec: spec, seed: 2, threads: 1)
        XCTAssertEqual(net.parameterCount, net.plan.params)
        let names = Set(net.parameters.map(\.name) + net.buffers.map(\.name))
        XCTAssertEqual(names, Set(KernelSchedule(plan: net.plan).expectedWeights.map(\.name)))
        XCTAssertFalse(names.contains { $0.contains(".expand.") }, "\(names.sorted())")
        let x = Tensor(shape: [2, 8, 8, 3], values: (0..<384).map { Float($0 % 7) * 0.1 })
        let logits = net.forward(x, training: false)
        XCTAssertEqual(logits.shape, [2, 4])
        XCTAssertTrue((0..<logits.count).allSatisfy { logits[$0].isFinite })
    }

    /// Finite differences through a whole small network (stem, dsconv with SE, mbconv with a
    /// projected residual, basic block, swish/hswish/leaky), in eval mode so BN is fixed.
    func testWholeNetworkGradient() throws {
        let spec = tinySpec(#"""
        [{"block": "dsconv", "out_channels": 6, "kernel": 3, "se_ratio": 0.5, "activation": "swish"},
         {"block": "mbconv", "out_channels": 8, "expansion": 2, "kernel": 3, "stride": 2, "activation": "hswish", "skip": "residual", "repeats": 2},
         {"block": "mbconv", "out_channels": 10, "expansion": 2, "kernel": 5, "activation": "leaky_relu", "skip": "residual"},
         {"block": "basic", "out_channels": 10, "kernel": 3, "activation": "relu6", "skip": "residual_full"}]
        """#, stem: #""stem": {"out_channels": 4, "kernel": 3, "stride": 1, "activation": "relu6"},"#)
        let net = try Network(spec: spec, seed: 3, threads: 1)
        var rng = SeededGenerator(seed: 5)
        let x = Tensor(shape: [2, 8, 8, 3])
        for i in 0..<x.count { x[i] = rng.nextGaussian() }
        // Make BN running stats non-trivial, then check in eval mode.
        _ = net.forward(x, training: true)
        let labels = [1, 3]
        func loss() throws -> Double {
            Double(try SoftmaxCrossEntropy.compute(logits: net.forward(x, training: false), labels: labels).loss)
        }
        net.zeroGrad()
        let logits = net.forward(x, training: false)
        let (_, d) = try SoftmaxCrossEntropy.compute(logits: logits, labels: labels)
        net.backward(d.clone())
        var checked = 0, bad: [String] = []
        for p in net.parameters {
            for i in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 3)) {
                let old = p.value[i]
                let h: Float = 1e-2
                p.value[i] = old + h; let lp = try loss()
                p.value[i] = old - h; let lm = try loss()
                p.value[i] = old
                let num = (lp - lm) / Double(2 * h)
                let ana = Double(p.grad[i])
                if abs(num - ana) > 2e-3 + 0.05 * abs(num) { bad.append("\(p.name)[\(i)] numeric \(num) analytic \(ana)") }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 60)
        XCTAssertLessThanOrEqual(bad.count, checked / 50, bad.prefix(8).joined(separator: "\n"))
    }

    /// Linking BN + activation into the readers (the default) changes no logit and moves the
    /// gradients only by the order of the BN reductions, on sampled specs of both MCU spaces
    /// (SE blocks, every skip rule, all activations), in training and eval mode.
    func testLinkedNetworkMatchesUnlinked() throws {
        var rng = SeededGenerator(seed: 12)
        var linkedPairs = 0
        let handWritten = tinySpec(#"""
        [{"block": "mbconv", "out_channels": 8, "expansion": 3, "kernel": 3, "stride": 2, "se_ratio": 0.25, "activation": "swish", "skip": "residual", "repeats": 2},
         {"block": "mbconv", "out_channels": 12, "expansion": 4, "kernel": 5, "activation": "hswish", "skip": "residual"},
         {"block": "dsconv", "out_channels": 12, "kernel": 3, "activation": "relu6", "skip": "residual"}]
        """#, classes: 5)
        let specs = [handWritten, try SearchSpace.mcu28.sample(numClasses: 5, using: &rng),
                     try SearchSpace.mcu32.sample(numClasses: 5, using: &rng)]
        for spec in specs {
            do {
                let x = Tensor(shape: [2, spec.input.height, spec.input.width, spec.input.channels])
                for i in 0..<x.count { x[i] = rng.nextGaussian() }
                let labels = [0, 4]
                var results: [(logits: [Float], eval: [Float], grads: [[Float]])] = []
                for link in [false, true] {
                    let net = try Network(plan: LayerPlan(spec: spec), seed: 2, threads: 2, linkBatchNorm: link)
                    if link { linkedPairs += net.linkedPairs } else { XCTAssertEqual(net.linkedPairs, 0) }
                    net.zeroGrad()
                    let logits = net.forward(x, training: true).array
                    let (_, d) = try SoftmaxCrossEntropy.compute(logits: Tensor(shape: [2, 5], values: logits), labels: labels)
                    net.backward(d)
                    results.append((logits, net.forward(x, training: false).array, net.parameters.map { $0.grad.array }))
                }
                XCTAssertEqual(results[1].logits, results[0].logits, "training logits must be bit-identical")
                XCTAssertEqual(results[1].eval, results[0].eval, "eval logits must be bit-identical")
                for (i, (a, b)) in zip(results[1].grads, results[0].grads).enumerated() {
                    assertNetClose(a, b, tol: 1e-4, "parameter \(i)")
                }
            }
        }
        XCTAssertGreaterThanOrEqual(linkedPairs, 6)
    }

    func assertNetClose(_ a: [Float], _ b: [Float], tol: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let scale = max(1e-3, b.map { abs($0) }.max() ?? 0)
        var worst: Float = 0
        for (u, v) in zip(a, b) { worst = max(worst, abs(u - v) / scale) }
        XCTAssertLessThanOrEqual(worst, tol, "\(what): worst error \(worst) relative to the largest entry \(scale)", file: file, line: line)
    }

    func testSameSeedSameWeightsAndTraining() throws {
        let spec = tinySpec(#"[{"block": "dsconv", "out_channels": 8, "stride": 2}]"#, input: #"{"height": 16, "width": 16, "channels": 1}"#, classes: 3)
        let data = try SyntheticData.generate(SyntheticConfig(classes: 3, size: 16, channels: 1, trainCount: 192, testCount: 0, noise: 0.1, seed: 4)).train
        func run() throws -> [Float] {
            let net = try Network(spec: spec, seed: 9, threads: 2)
            var cfg = TrainConfig(); cfg.epochs = 1; cfg.batchSize = 32; cfg.seed = 9
            _ = try Trainer.train(net, train: data, val: nil, normalization: Normalization.compute(from: data), config: cfg)
            return net.parameters.flatMap { $0.value.array }
        }
        XCTAssertEqual(try run(), try run())
    }
}
