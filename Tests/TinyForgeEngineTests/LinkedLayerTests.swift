import XCTest
import TinyForgeSpec
@testable import TinyForgeEngine

/// `ConvBNAct.link`: a producer's BN + activation applied by its reader must give the same
/// network as applying it in the producer (forward bit for bit; gradients up to the order of
/// the per-channel reductions), in training and eval mode, on every kernel path it touches.
final class LinkedLayerTests: XCTestCase {
    let pool = ThreadPool(threads: 2)

    struct Config {
        let h: Int, stride: Int, channels: Int, producerBN: Bool, act: KernelActivation
    }

    /// expand 1×1 → depthwise 3×3 → project 1×1 (no activation), with non-trivial BN parameters;
    /// the same weights whether linked or not (same seed).
    func chain(_ cfg: Config, link: Bool) throws -> [ConvBNAct] {
        var rng = SeededGenerator(seed: 21)
        let e = cfg.channels
        let expand = try ConvBNAct(cin: 5, cout: e, kernel: 1, bias: !cfg.producerBN, batchNorm: cfg.producerBN,
                                   activation: cfg.act, pool: pool, rng: &rng)
        let dw = try ConvBNAct(cin: e, cout: e, kernel: 3, stride: cfg.stride, groups: e, activation: cfg.act, pool: pool, rng: &rng)
        let project = try ConvBNAct(cin: e, cout: 7, kernel: 1, activation: nil, pool: pool, rng: &rng)
        for l in [expand, dw, project] {
            if let g = l.gamma, let b = l.beta {
                for j in 0..<l.cout { g[j] = 1 + 0.3 * rng.nextGaussian(); b[j] = 0.3 * rng.nextGaussian() }
                for j in 0..<l.cout { l.runningMean![j] = 0.2 * rng.nextGaussian(); l.runningVar![j] = 0.5 + rng.nextFloat() }
            }
            if let b = l.bias { for j in 0..<l.cout { b[j] = 0.3 * rng.nextGaussian() } }
        }
        if link {
            try ConvBNAct.link(producer: expand, consumer: dw)
            try ConvBNAct.link(producer: dw, consumer: project)
        }
        return [expand, dw, project]
    }

    /// Output, dL/dx and every parameter gradient of two steps through the chain.
    func run(_ layers: [ConvBNAct], _ x: Tensor, _ r: Tensor, training: Bool) -> (out: [Float], grads: [[Float]]) {
        var out: [Float] = [], grads: [[Float]] = []
        for _ in 0..<2 {   // a second step: nothing may be left over from the first
            var h = x
            for l in layers { h = l.forward(h, training: training) }
            out = h.array
            for l in layers { l.zeroGrad() }
            var g = r
            for l in layers.reversed() { g = l.backward(g) }
            grads = [g.array] + layers.flatMap { $0.parameters.map { $0.grad.array } }
            if training { grads += layers.compactMap { $0.runningMean?.array } + layers.compactMap { $0.runningVar?.array } }
        }
        return (out, grads)
    }

    func testLinkedChainMatchesUnlinked() throws {
        let configs = [
            Config(h: 9, stride: 1, channels: 36, producerBN: true, act: .relu6),    // 32-wide + scalar channel paths
            Config(h: 10, stride: 2, channels: 20, producerBN: true, act: .swish),   // stride-2 depthwise
            Config(h: 5, stride: 1, channels: 12, producerBN: false, act: .hswish),  // < 8 columns, bias instead of BN
            Config(h: 16, stride: 1, channels: 8, producerBN: true, act: .leakyRelu),
        ]
        var rng = SeededGenerator(seed: 4)
        for cfg in configs {
            let x = randomTensor([3, cfg.h, cfg.h, 5], &rng)
            let oh = (cfg.h + cfg.stride - 1) / cfg.stride
            let r = randomTensor([3, oh, oh, 7], &rng)
            for training in [true, false] {
                let plain = run(try chain(cfg, link: false), x, r, training: training)
                let linked = run(try chain(cfg, link: true), x, r, training: training)
                let what = "h \(cfg.h) s\(cfg.stride) c\(cfg.channels) \(cfg.act) \(training ? "train" : "eval")"
                XCTAssertEqual(linked.out, plain.out, "\(what): forward must be bit-identical")
                XCTAssertEqual(linked.grads.count, plain.grads.count)
                for (i, (a, b)) in zip(linked.grads, plain.grads).enumerated() {
                    assertClose(a, b, tol: 2e-5, "\(what): gradient tensor \(i)")
                }
            }
        }
    }

    /// The producer uses the consumer's sums only for the very tensor the consumer produced;
    /// any other dy (a copy, a sum with a skip path) takes the producer's own reduction pass.
    func testProducerRecomputesForAForeignGradient() throws {
        let cfg = Config(h: 8, stride: 1, channels: 16, producerBN: true, act: .relu6)
        var rng = SeededGenerator(seed: 5)
        let x = randomTensor([2, 8, 8, 5], &rng), r = randomTensor([2, 8, 8, 7], &rng)
        let linked = try chain(cfg, link: true), plain = try chain(cfg, link: false)
        for net in [linked, plain] {
            var h = x
            for l in net { h = l.forward(h, training: true) }
            for l in net { l.zeroGrad() }
            let g1 = net[2].backward(r)
            let g2 = net[1].backward(g1)
            let scaled = Tensor(shape: g2.shape)
            for i in 0..<g2.count { scaled[i] = 2 * g2[i] }   // not the tensor the depthwise layer produced
            _ = net[0].backward(scaled)
        }
        for (a, b) in zip(linked[0].parameters, plain[0].parameters) {
            assertClose(a.grad.array, b.grad.array, tol: 2e-5, "expand \(a.name)")
        }
    }

    func testLinkRejectsUnsupportedReaders() throws {
        var rng = SeededGenerator(seed: 6)
        let a = try ConvBNAct(cin: 3, cout: 8, kernel: 1, activation: .relu, pool: pool, rng: &rng)
        let full3 = try ConvBNAct(cin: 8, cout: 8, kernel: 3, activation: .relu, pool: pool, rng: &rng)
        XCTAssertThrowsError(try ConvBNAct.link(producer: a, consumer: full3)) { err in
            XCTAssertTrue("\(err)".contains("depthwise or 1×1 stride 1"), "\(err)")
        }
        let wrongWidth = try ConvBNAct(cin: 4, cout: 8, kernel: 1, activation: nil, pool: pool, rng: &rng)
        XCTAssertThrowsError(try ConvBNAct.link(producer: a, consumer: wrongWidth))
        let ok = try ConvBNAct(cin: 8, cout: 8, kernel: 3, groups: 8, activation: .relu, pool: pool, rng: &rng)
        try ConvBNAct.link(producer: a, consumer: ok)
        XCTAssertTrue(a.defersOutput)
        XCTAssertThrowsError(try ConvBNAct.link(producer: a, consumer: ok), "linked twice")
    }

    /// The link is one object both layers refer to: the producer's output link is the
    /// consumer's input link, it names both, and a refused link leaves both layers unlinked.
    func testLinkIsOneObjectSharedByBothLayers() throws {
        var rng = SeededGenerator(seed: 7)
        let expand = try ConvBNAct(cin: 4, cout: 8, kernel: 1, activation: .relu6, pool: pool, rng: &rng)
        let dw = try ConvBNAct(cin: 8, cout: 8, kernel: 3, groups: 8, activation: .relu6, pool: pool, rng: &rng)
        let full3 = try ConvBNAct(cin: 8, cout: 8, kernel: 3, activation: .relu, pool: pool, rng: &rng)
        XCTAssertThrowsError(try ConvBNAct.link(producer: expand, consumer: full3))
        XCTAssertNil(expand.outputLink); XCTAssertNil(full3.inputLink); XCTAssertFalse(expand.defersOutput)
        let link = try ConvBNAct.link(producer: expand, consumer: dw)
        XCTAssertTrue(link.producer === expand && link.consumer === dw)
        XCTAssertTrue(expand.outputLink === link && dw.inputLink === link)
        XCTAssertNil(expand.inputLink); XCTAssertNil(dw.outputLink)
        // The hand-over of pass-A sums holds only for the gradient it was collected for.
        let x = Tensor(shape: [2, 6, 6, 4])
        for i in 0..<x.count { x[i] = Float((i * 37) % 17) / 17 - 0.5 }
        let y = dw.forward(expand.forward(x, training: true), training: true)
        let dy = Tensor(shape: y.shape)
        for i in 0..<dy.count { dy[i] = Float((i * 13) % 11) / 11 - 0.5 }
        let dmid = dw.backward(dy)
        XCTAssertTrue(link.gradSumsFor === dmid)
        _ = expand.backward(dmid)
        XCTAssertNil(link.gradSumsFor, "the producer takes the sums once")
    }
}
