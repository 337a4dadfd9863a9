import XCTest
import TinyForgeSpec
@testable import TinyForgeEngine

final class LayerBehaviourTests: XCTestCase {
    func testBatchNormTrainAndEval() throws {
        let pool = ThreadPool(threads: 2)
        var rng = SeededGenerator(seed: 20)
        let layer = try ConvBNAct(cin: 3, cout: 5, kernel: 1, activation: nil, pool: pool, rng: &rng)
        let x = randomTensor([4, 3, 3, 3], &rng, scale: 2)
        let y = layer.forward(x, training: true)
        // batch-normalised output: per-channel mean 0, biased variance 1 (γ=1, β=0)
        let m = y.count / 5
        for ch in 0..<5 {
            var s = 0.0, q = 0.0
            for r in 0..<m { let v = Double(y[r * 5 + ch]); s += v; q += v * v }
            XCTAssertEqual(s / Double(m), 0, accuracy: 1e-5)
            XCTAssertEqual(q / Double(m), 1, accuracy: 1e-3)
        }
        // running stats: 0.9·init + 0.1·batch (unbiased variance), like PyTorch
        let s = ConvShape(n: 4, h: 3, w: 3, cin: 3, cout: 5, k: 1, stride: 1, depthwise: false)
        let z = ConvReference.forward(x.array, layer.weight.array, s)
        for ch in 0..<5 {
            var mu = 0.0
            for r in 0..<m { mu += Double(z[r * 5 + ch]) }
            mu /= Double(m)
            var v = 0.0
            for r in 0..<m { v += pow(Double(z[r * 5 + ch]) - mu, 2) }
            v /= Double(m - 1)
            XCTAssertEqual(Double(layer.runningMean![ch]), 0.1 * mu, accuracy: 1e-5)
            XCTAssertEqual(Double(layer.runningVar![ch]), 0.9 + 0.1 * v, accuracy: 1e-4)
        }
        // eval: uses running stats, does not update them
        let rm = layer.runningMean!.array
        let ye = layer.forward(x, training: false)
        XCTAssertEqual(layer.runningMean!.array, rm)
        for r in 0..<m { for ch in 0..<5 {
            let expect = (z[r * 5 + ch] - rm[ch]) / (layer.runningVar![ch] + 1e-5).squareRoot()
            XCTAssertEqual(ye[r * 5 + ch], expect, accuracy: 1e-4)
        } }
    }

    func testParameterCountsMatchPyTorch() throws {
        let pool = ThreadPool(threads: 1)
        var rng = SeededGenerator(seed: 21)
        // nn.Conv2d(16, 24, 3, bias=False) + BatchNorm2d(24): 3456 + 48
        XCTAssertEqual(try ConvBNAct(cin: 16, cout: 24, kernel: 3, activation: .relu, pool: pool, rng: &rng).parameterCount, 3504)
        // depthwise nn.Conv2d(96, 96, 5, groups=96, bias=False) + BN: 2400 + 192
        XCTAssertEqual(try ConvBNAct(cin: 96, cout: 96, kernel: 5, groups: 96, activation: .relu6, pool: pool, rng: &rng).parameterCount, 2592)
        // nn.Conv2d(3, 8, 3, bias=True), no BN: 216 + 8
        XCTAssertEqual(try ConvBNAct(cin: 3, cout: 8, kernel: 3, bias: true, batchNorm: false, activation: nil, pool: pool, rng: &rng).parameterCount, 224)
        // SE on 96 channels, ratio 0.25: 96·24 + 24 + 24·96 + 96
        XCTAssertEqual(try SqueezeExcite(channels: 96, reduced: 24, pool: pool, rng: &rng).parameterCount, 4728)
        XCTAssertEqual(try Linear(inFeatures: 160, outFeatures: 100, pool: pool, rng: &rng).parameterCount, 16100)
        XCTAssertThrowsError(try ConvBNAct(cin: 8, cout: 16, kernel: 3, groups: 8, activation: nil, pool: pool, rng: &rng))
        XCTAssertThrowsError(try ConvBNAct(cin: 8, cout: 16, kernel: 4, activation: nil, pool: pool, rng: &rng))
    }

    func testKaimingInitStatistics() throws {
        let pool = ThreadPool(threads: 1)
        var rng = SeededGenerator(seed: 22)
        let l = try ConvBNAct(cin: 64, cout: 64, kernel: 3, activation: .relu, pool: pool, rng: &rng)
        let w = l.weight.array
        let std = (w.reduce(0) { $0 + Double($1 * $1) } / Double(w.count)).squareRoot()
        XCTAssertEqual(std, (2.0 / (64 * 9)).squareRoot(), accuracy: 0.002)
    }

    /// Same seed ⇒ bit-identical outputs and gradients, also with 2 threads and an uneven split.
    func testDeterminismWithSameSeed() throws {
        func run() throws -> [Float] {
            let pool = ThreadPool(threads: 2)
            var rng = SeededGenerator(seed: 23)
            let a = try ConvBNAct(cin: 3, cout: 16, kernel: 3, stride: 2, activation: .swish, pool: pool, rng: &rng)
            let b = try ConvBNAct(cin: 16, cout: 16, kernel: 3, groups: 16, activation: .relu6, pool: pool, rng: &rng)
            let c = try ConvBNAct(cin: 16, cout: 8, kernel: 1, activation: nil, pool: pool, rng: &rng)
            let x = randomTensor([5, 9, 9, 3], &rng)
            let y = c.forward(b.forward(a.forward(x, training: true), training: true), training: true)
            _ = a.backward(b.backward(c.backward(y)))
            return y.array + a.weightGrad.array + b.weightGrad.array + c.weightGrad.array
        }
        XCTAssertEqual(try run(), try run())
    }

    func testSpinOverrideParsesAndRejectsWithTheFix() throws {
        XCTAssertEqual(try ThreadPool.spinRounds(forEnvironmentValue: "0"), 0)
        XCTAssertEqual(try ThreadPool.spinRounds(forEnvironmentValue: "2000"), 2000)
        for bad in ["-1", "fast", "", "2e3"] {
            XCTAssertThrowsError(try ThreadPool.spinRounds(forEnvironmentValue: bad)) { e in
                let m = "\(e)"
                XCTAssertTrue(m.contains("TINYFORGE_SPIN=\(bad)") && m.contains("count ≥ 0"), m)
            }
        }
    }

    func testThreadPoolSplitsEveryIndexOnce() {
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threads: threads)
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: 17); hits.initialize(repeating: 0, count: 17)
            defer { hits.deallocate() }
            pool.parallelFor(17) { r, _ in for i in r { hits[i] += 1 } }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: hits, count: 17)), Array(repeating: 1, count: 17))
        }
    }

    /// Shares are claimed dynamically: many back-to-back regions (workers often join late or
    /// not at all), each share run exactly once with the range `shareRange` promises, and
    /// `run` still reaches every thread exactly once.
    func testThreadPoolSharesAndRunUnderRepeatedRegions() {
        for threads in [2, 3] {
            let pool = ThreadPool(threads: threads)
            XCTAssertEqual(pool.workspaces.count, pool.shareCount)
            let S = pool.shareCount
            let seen = UnsafeMutablePointer<Int>.allocate(capacity: S * 2); defer { seen.deallocate() }
            for round in 0..<300 {
                let count = [1, 2, 5, 17, 64][round % 5]
                seen.initialize(repeating: 0, count: S * 2)
                pool.parallelFor(count) { r, share in
                    XCTAssertEqual(r, pool.shareRange(share, of: count))
                    seen[share] += 1; seen[S + share] = r.count
                }
                var covered = 0
                for sh in 0..<S {
                    let expect = pool.shareRange(sh, of: count).isEmpty ? 0 : 1
                    XCTAssertEqual(seen[sh], expect, "share \(sh) of \(count), round \(round)")
                    covered += seen[S + sh]
                }
                XCTAssertEqual(covered, count)
                if round % 7 == 0 {
                    let ran = UnsafeMutablePointer<Int>.allocate(capacity: threads); defer { ran.deallocate() }
                    ran.initialize(repeating: 0, count: threads)
                    pool.run { t in ran[t] += 1 }
                    XCTAssertEqual(Array(UnsafeBufferPointer(start: ran, count: threads)), Array(repeating: 1, count: threads))
                }
            }
        }
    }
}
