import Foundation
import TinyForgeData
import TinyForgeSpec
import XCTest

/// Throughput numbers, not correctness (that is in the other classes). Skipped unless
/// TINYFORGE_BENCH=1; run in release:
/// `TINYFORGE_BENCH=1 swift test -c release -Xswiftc -target-cpu -Xswiftc haswell --filter DataBenchE2ETests`
final class DataBenchE2ETests: XCTestCase {
    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["TINYFORGE_BENCH"] == "1" else { throw XCTSkip("set TINYFORGE_BENCH=1") }
    }

    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
    }

    func epochRate(_ ds: Dataset, _ cfg: PreprocessConfig, augment: Bool, threads: Int, limit: Int) throws -> Double {
        let pre = try Preprocessor(for: ds, config: cfg)
        var it = try BatchIterator(dataset: ds, preprocessor: pre, batchSize: 128, seed: 1, augment: augment, threads: threads)
        var n = 0
        let t = seconds {
            while n < limit, let b = it.next() { n += b.count }
        }
        return Double(n) / t
    }

    func testThroughput() throws {
        var lines = [String]()
        if FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory) {
            var fm: (train: Dataset, test: Dataset)?
            let t = try seconds { fm = try FashionMNIST.load() }
            lines.append(String(format: "fashion-mnist gunzip+parse 70k images: %.2f s", t))
            let train = fm!.train
            for threads in [1, 2] {
                let r = try epochRate(train, PreprocessConfig(normalization: Normalization(mean: [0.286], std: [0.353]),
                                                              augment: .digits()), augment: true, threads: threads, limit: 60000)
                lines.append(String(format: "fashion-mnist 28x28x1 norm+shift, %d thread(s): %.0f images/s", threads, r))
            }
        }
        let cifarLike = try SyntheticData.generate(SyntheticConfig(classes: 10, size: 32, channels: 3, trainCount: 2048, testCount: 0)).train
        let up = PreprocessConfig(height: 160, width: 160, normalization: Normalization(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]),
                                  augment: .cifar(size: 160))
        for threads in [1, 2] {
            let r = try epochRate(cifarLike, up, augment: true, threads: threads, limit: 2048)
            lines.append(String(format: "32x32x3 -> 160x160x3 resize+crop+flip+norm+cutout, %d thread(s): %.0f images/s", threads, r))
        }
        // Fused kernel vs the plain reference composition, same images, same draws.
        let pre = try Preprocessor(for: cifarLike, config: up)
        var rng = SeededGenerator(seed: 1)
        let draws = (0..<256).map { _ in pre.draw(rng: &rng) }
        var out = [Float](repeating: 0, count: pre.outputSampleSize)
        let fused = seconds {
            out.withUnsafeMutableBufferPointer { o in for i in 0..<256 { pre.process(cifarLike, index: i, draw: draws[i], into: o.baseAddress!) } }
        }
        let reference = seconds { for i in 0..<256 { out = pre.reference(cifarLike.floatImage(at: i), draw: draws[i]) } }
        lines.append(String(format: "fused vs reference per 160x160x3 image: %.3f ms vs %.3f ms (%.1fx)",
                            fused / 256 * 1e3, reference / 256 * 1e3, reference / fused))
        print(lines.map { "BENCH " + $0 }.joined(separator: "\n"))
    }
}
