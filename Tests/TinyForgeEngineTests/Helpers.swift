import XCTest
import TinyForgeSpec
@testable import TinyForgeEngine

func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, scale: Float = 1) -> Tensor {
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t[i] = rng.nextGaussian() * scale }
    return t
}

func assertClose(_ a: [Float], _ b: [Float], tol: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    var worst: Float = 0, at = 0
    for i in 0..<min(a.count, b.count) {
        let e = abs(a[i] - b[i]) / max(1, abs(b[i]))
        if e > worst { worst = e; at = i }
    }
    XCTAssertLessThanOrEqual(worst, tol, "\(what): worst error \(worst) at \(at) (\(a.isEmpty ? 0 : a[at]) vs \(b.isEmpty ? 0 : b[at]))", file: file, line: line)
}

/// Central finite differences of L = Σ forward()·R against the analytic gradients that
/// `backward(R)` produced, on `samples` random entries of every checked tensor.
struct GradCheck {
    var eps: Float = 1e-2
    var tol: Double = 2e-2
    var samples = 12

    func run(forward: () -> Tensor, backward: (Tensor) -> Void,
             checks: [(String, Tensor, () -> Tensor)], seed: UInt64 = 99,
             file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: seed)
        let out = forward()
        let r = randomTensor(out.shape, &rng)
        func loss() -> Double {
            let y = forward()
            var s = 0.0
            for i in 0..<y.count { s += Double(y[i]) * Double(r[i]) }
            return s
        }
        _ = forward()
        backward(r)
        // snapshot analytic grads before any further forward
        let analytic = checks.map { $0.2().array }
        for (ci, (name, value, _)) in checks.enumerated() {
            let picks = value.count <= samples ? Array(0..<value.count) : (0..<samples).map { _ in Int(rng.next() % UInt64(value.count)) }
            for i in picks {
                let old = value[i]
                value[i] = old + eps; let lp = loss()
                value[i] = old - eps; let lm = loss()
                value[i] = old
                let num = (lp - lm) / Double(2 * eps)
                let ana = Double(analytic[ci][i])
                let err = abs(num - ana) / max(1.0, abs(num), abs(ana))
                XCTAssertLessThanOrEqual(err, tol, "\(name)[\(i)]: numeric \(num) vs analytic \(ana)", file: file, line: line)
            }
        }
    }
}
