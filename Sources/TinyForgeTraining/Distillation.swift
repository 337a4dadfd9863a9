import TinyForgeEngine

/// Logits-based knowledge distillation (Hinton et al.), as the paper uses it:
/// L = α·CE(y, s; label smoothing) + (1−α)·T²·KL(softmax(t/T) ‖ softmax(s/T)).
/// The T² keeps gradient magnitudes comparable across temperatures.
public enum Distillation {
    /// - Parameters: student and teacher logits (N, C); labels; α ∈ [0,1]; T > 0.
    /// - Returns: total loss, its parts, and dL/dstudent (a new tensor).
    public static func loss(student: Tensor, teacher: [Float], labels: [Int], alpha: Float, temperature: Float,
                            smoothing: Float) throws -> (loss: Float, ce: Float, kl: Float, grad: Tensor) {
        let n = student.n, c = student.c
        guard teacher.count == n * c else {
            throw TrainingError.invalidOption("teacher logits", "\(teacher.count) values for a batch of \(n)×\(c) student logits")
        }
        guard temperature > 0, (0...1).contains(alpha) else {
            throw TrainingError.invalidOption("distillation", "need temperature > 0 and alpha in [0, 1], got T=\(temperature), alpha=\(alpha)")
        }
        let (ce, dce) = try SoftmaxCrossEntropy.compute(logits: student, labels: labels, smoothing: smoothing)
        let grad = Tensor(shape: [n, c])
        var kl = 0.0
        let t = Double(temperature)
        var ps = [Double](repeating: 0, count: c), pt = ps
        for i in 0..<n {
            softmax(student.data + i * c, c, t, &ps)
            teacher.withUnsafeBufferPointer { softmax($0.baseAddress! + i * c, c, t, &pt) }
            for j in 0..<c where pt[j] > 0 { kl += pt[j] * (log(pt[j]) - log(max(ps[j], 1e-300))) }
            // d/ds of T²·KL(pt‖ps(s/T)) = T·(ps − pt); averaged over the batch.
            for j in 0..<c {
                let dkl = Float(t * (ps[j] - pt[j]) / Double(n))
                grad[i * c + j] = alpha * dce[i * c + j] + (1 - alpha) * dkl
            }
        }
        let klMean = Float(kl / Double(n))
        return (alpha * ce + (1 - alpha) * temperature * temperature * klMean, ce, klMean, grad)
    }

    static func softmax(_ x: UnsafePointer<Float>, _ c: Int, _ t: Double, _ out: inout [Double]) {
        var mx = -Double.infinity
        for j in 0..<c { mx = max(mx, Double(x[j]) / t) }
        var s = 0.0
        for j in 0..<c { out[j] = exp(Double(x[j]) / t - mx); s += out[j] }
        for j in 0..<c { out[j] /= s }
    }
}

#if canImport(Glibc)
import Glibc
#endif
