/// Small dense helpers shared by the head and squeeze-excitation layers (all shapes tiny:
/// batch × channels), plus the loss. Forward and backward side by side.
public enum Dense {
    /// y(N,out) = x(N,in)·W(in,out) + b.
    public static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>?,
                               _ y: UnsafeMutablePointer<Float>, n: Int, cin: Int, cout: Int, ws: Workspace) {
        Gemm.sgemm(m: n, n: cout, k: cin, a: x, rsA: cin, csA: 1, b: w, rsB: cout, csB: 1, c: y, ldc: cout,
                   accumulate: false, pack: ws.floats(.pack, Gemm.packSize(n: cout)))
        if let b { for i in 0..<n { for j in 0..<cout { y[i * cout + j] += b[j] } } }
    }

    /// dW += xᵀ·dy, db += Σ_n dy, dx = dy·Wᵀ (dx optional).
    public static func backward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                                n: Int, cin: Int, cout: Int, ws: Workspace) {
        let pack = ws.floats(.pack, Gemm.packSize(n: max(cin, cout)))
        Gemm.sgemm(m: cin, n: cout, k: n, a: x, rsA: 1, csA: cin, b: dy, rsB: cout, csB: 1, c: dw, ldc: cout,
                   accumulate: true, pack: pack)
        if let db { for i in 0..<n { for j in 0..<cout { db[j] += dy[i * cout + j] } } }
        if let dx {
            Gemm.sgemm(m: n, n: cin, k: cout, a: dy, rsA: cout, csA: 1, b: w, rsB: 1, csB: cout, c: dx, ldc: cin,
                       accumulate: false, pack: pack)
        }
    }
}

public enum Pool {
    /// out(C) = mean over H·W of x(H·W, C), one image.
    public static func gapForward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, pixels: Int, c: Int) {
        out.update(repeating: 0, count: c)
        for p in 0..<pixels { addInPlace(out, x + p * c, c) }
        let inv = 1 / Float(pixels)
        for ch in 0..<c { out[ch] *= inv }
    }

    /// dx(H·W, C) = dy(C)/(H·W), one image.
    public static func gapBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, pixels: Int, c: Int) {
        let inv = 1 / Float(pixels)
        for p in 0..<pixels { for ch in 0..<c { dx[p * c + ch] = dy[ch] * inv } }
    }
}

/// Softmax cross-entropy with label smoothing, as `torch.nn.CrossEntropyLoss(label_smoothing=ε)`:
/// target = (1−ε)·onehot + ε/C, loss = mean over the batch of −Σ target·log_softmax(logits).
public enum SoftmaxCrossEntropy {
    /// - Parameters: logits (N, C); labels in 0..<C.
    /// - Returns: the mean loss and dL/dlogits = (softmax − target)/N.
    public static func compute(logits: Tensor, labels: [Int], smoothing: Float = 0) throws -> (loss: Float, dlogits: Tensor) {
        let n = logits.n, c = logits.c
        guard logits.shape.count == 2 else { throw EngineError("SoftmaxCrossEntropy: logits shape \(logits.shape) must be [N, classes]") }
        guard labels.count == n else { throw EngineError("SoftmaxCrossEntropy: \(labels.count) labels for a batch of \(n)") }
        guard smoothing >= 0 && smoothing < 1 else { throw EngineError("SoftmaxCrossEntropy: smoothing=\(smoothing) must be in [0, 1)") }
        let d = Tensor(shape: [n, c])
        var total = 0.0
        for i in 0..<n {
            let y = labels[i]
            guard y >= 0 && y < c else { throw EngineError("SoftmaxCrossEntropy: label \(y) at index \(i) outside 0..<\(c)") }
            let row = logits.data + i * c
            var mx = row[0]
            for j in 1..<c { mx = max(mx, row[j]) }
            var se = 0.0
            for j in 0..<c { se += exp(Double(row[j] - mx)) }
            let lse = Double(mx) + log(se)
            var li = 0.0
            for j in 0..<c {
                let t = Double(smoothing) / Double(c) + (j == y ? Double(1 - smoothing) : 0)
                let logp = Double(row[j]) - lse
                li -= t * logp
                d[i * c + j] = Float((exp(logp) - t) / Double(n))
            }
            total += li
        }
        return (Float(total / Double(n)), d)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
