import XCTest
import TinyForgeSpec
@testable import TinyForgeEngine

/// Finite-difference checks of every layer's input and parameter gradients.
final class GradientTests: XCTestCase {
    let pool = ThreadPool(threads: 2)

    func check(_ layer: Layer, _ x: Tensor, training: Bool = true, input: Bool = true, eps: Float = 1e-2,
               file: StaticString = #filePath, line: UInt = #line) {
        var dx: Tensor?
        var checks: [(String, Tensor, () -> Tensor)] = layer.parameters.map { p in (p.name, p.value, { p.grad }) }
        if input { checks.append(("x", x, { dx! })) }
        GradCheck(eps: eps).run(forward: { layer.forward(x, training: training) },
                                backward: { r in layer.zeroGrad(); dx = layer.backward(r).clone() },
                                checks: checks, file: file, line: line)
    }

    func testConvBNActAllKernelsStridesActivations() throws {
        var rng = SeededGenerator(seed: 10)
        let acts: [KernelActivation?] = [nil, .swish, .sigmoid]
        var i = 0
        for (k, s, dw) in [(1, 1, false), (3, 2, false), (3, 1, true), (5, 2, true), (1, 2, false), (7, 1, true)] {
            for bn in [true, false] {
                let act = acts[i % acts.count]; i += 1
                let c = dw ? 9 : 5, co = dw ? 9 : 11
                let layer = try ConvBNAct(cin: c, cout: co, kernel: k, stride: s, groups: dw ? c : 1, bias: !bn,
                                          batchNorm: bn, activation: act, pool: pool, rng: &rng)
                if !bn { for j in 0..<co { layer.bias![j] = rng.nextGaussian() * 0.3 } }
                else { for j in 0..<co { layer.gamma![j] = 1 + 0.3 * rng.nextGaussian(); layer.beta![j] = 0.3 * rng.nextGaussian() } }
                let x = randomTensor([3, 5, 6, c], &rng)
                check(layer, x)
            }
        }
    }

    /// Piecewise activations: finite differences are only valid where no pre-activation crosses
    /// a kink within ±eps, so these use tiny shapes and a small eps.
    func testConvBNActPiecewiseActivations() throws {
        var rng = SeededGenerator(seed: 17)
        for (i, act) in [KernelActivation.relu, .relu6, .leakyRelu, .hswish].enumerated() {
            let dw = i % 2 == 1
            let layer = try ConvBNAct(cin: 4, cout: 4, kernel: 3, stride: 1 + i % 2, groups: dw ? 4 : 1,
                                      activation: act, pool: pool, rng: &rng)
            for j in 0..<4 { layer.gamma![j] = act == .relu6 ? 4 : 2; layer.beta![j] = 0.5 * rng.nextGaussian() }
            check(layer, randomTensor([2, 3, 3, 4], &rng), eps: 1e-3)
        }
    }

    func testConvBNEvalModeGradients() throws {
        var rng = SeededGenerator(seed: 11)
        let layer = try ConvBNAct(cin: 4, cout: 6, kernel: 3, activation: .swish, pool: pool, rng: &rng)
        for j in 0..<6 { layer.runningMean![j] = 0.2 * rng.nextGaussian(); layer.runningVar![j] = 0.5 + rng.nextFloat() }
        check(layer, randomTensor([2, 4, 4, 4], &rng), training: false)
    }

    func testSqueezeExcite() throws {
        var rng = SeededGenerator(seed: 12)
        let se = try SqueezeExcite(channels: 10, reduced: 3, pool: pool, rng: &rng)
        for j in 0..<3 { se.b1[j] = 0.5 }
        check(se, randomTensor([3, 3, 4, 10], &rng))
    }

    func testLinearAndPool() throws {
        var rng = SeededGenerator(seed: 13)
        let lin = try Linear(inFeatures: 13, outFeatures: 7, pool: pool, rng: &rng)
        for j in 0..<lin.weight.count { lin.weight[j] = rng.nextGaussian() * 0.3 }
        check(lin, randomTensor([5, 13], &rng))
        check(GlobalAvgPool(pool: pool), randomTensor([3, 3, 5, 6], &rng))
    }

    func testDropoutUsesItsMaskInBackward() throws {
        var rng = SeededGenerator(seed: 14)
        let d = try Dropout(p: 0.3, rng: &rng)
        let x = randomTensor([4, 50], &rng)
        let y = d.forward(x, training: true).clone()
        let dx = d.backward(Tensor(shape: x.shape, values: Array(repeating: 1, count: x.count)))
        var dropped = 0
        for i in 0..<x.count {
            if y[i] == 0 { dropped += 1; XCTAssertEqual(dx[i], 0) } else {
                XCTAssertEqual(y[i], x[i] / 0.7, accuracy: 1e-5); XCTAssertEqual(dx[i], 1 / 0.7, accuracy: 1e-5)
            }
        }
        XCTAssert(dropped > 30 && dropped < 90, "dropped \(dropped) of 200 at p=0.3")
        XCTAssertTrue(d.forward(x, training: false) === x)
    }

    func testResidualAddWithActivation() {
        var rng = SeededGenerator(seed: 15)
        for act in [nil, KernelActivation.relu6, .swish] {
            let add = ResidualAdd(activation: act, pool: pool)
            let a = randomTensor([2, 3, 3, 11], &rng, scale: 2), b = randomTensor([2, 3, 3, 11], &rng, scale: 2)
            var d: Tensor?
            GradCheck().run(forward: { add.forward(a, b) }, backward: { r in d = add.backward(r).clone() },
                            checks: [("a", a, { d! }), ("b", b, { d! })])
        }
    }

    func testSoftmaxCrossEntropyWithSmoothing() throws {
        var rng = SeededGenerator(seed: 16)
        let logits = randomTensor([4, 7], &rng, scale: 2), labels = [0, 6, 3, 3]
        for eps in [Float(0), 0.1] {
            let (loss, d) = try SoftmaxCrossEntropy.compute(logits: logits, labels: labels, smoothing: eps)
            for i in [0, 5, 13, 27] {
                let old = logits[i]
                logits[i] = old + 1e-2; let lp = try SoftmaxCrossEntropy.compute(logits: logits, labels: labels, smoothing: eps).loss
                logits[i] = old - 1e-2; let lm = try SoftmaxCrossEntropy.compute(logits: logits, labels: labels, smoothing: eps).loss
                logits[i] = old
                XCTAssertEqual(d[i], (lp - lm) / 2e-2, accuracy: 2e-3)
            }
            XCTAssert(loss > 0)
        }
        // PyTorch value: F.cross_entropy(zeros(1,4), [2], label_smoothing=0.1) = log 4
        let z = Tensor(shape: [1, 4])
        XCTAssertEqual(try SoftmaxCrossEntropy.compute(logits: z, labels: [2], smoothing: 0.1).loss, Float(log(4.0)), accuracy: 1e-6)
        XCTAssertThrowsError(try SoftmaxCrossEntropy.compute(logits: z, labels: [4]))
    }
}
