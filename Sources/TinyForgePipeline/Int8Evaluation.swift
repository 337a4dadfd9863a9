import Dispatch
import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeEngine
import TinyForgeTraining

/// Float and int8 accuracy of one network on the same images, side by side.
public struct Int8EvaluationResult: Sendable, Equatable {
    public var count: Int
    public var floatAccuracy: Double
    public var int8Accuracy: Double
    /// Fraction of images where the int8 model's top-1 class equals the float network's.
    public var top1Agreement: Double
    public var seconds: Double
    public var accuracyDrop: Double { floatAccuracy - int8Accuracy }
}

public enum Int8Evaluation {
    /// Runs `net` (engine, eval mode) and `q.model` (Swift `Int8Interpreter`, bit-exact with
    /// TFLM) on the first `limit` images of `data` (all when nil). The int8 input is the
    /// normalised float image quantised with the model's input parameters; int8 images run on
    /// `threads` threads.
    public static func evaluate(_ net: Network, _ q: QuantizedNetwork, on data: Dataset, normalization: Normalization,
                                limit: Int? = nil, threads: Int = 2) throws -> Int8EvaluationResult {
        let spec = net.plan.spec
        let interpreter = try Int8Interpreter(model: q.model)
        let pre = try Trainer.preprocessor(for: spec, data: data, normalization: normalization, augment: .none)
        var it = try BatchIterator(dataset: data, preprocessor: pre, batchSize: 100, seed: 0, shuffle: false)
        let per = spec.input.height * spec.input.width * spec.input.channels
        let total = min(limit ?? data.count, data.count)
        var seen = 0, floatCorrect = 0, int8Correct = 0, agree = 0
        let start = Date()
        var input: Tensor?
        while seen < total, let b = it.next() {
            let n = min(b.count, total - seen)
            let x = Tensor.reuse(input, shape: [n, spec.input.height, spec.input.width, spec.input.channels]); input = x
            b.images.withUnsafeBufferPointer { x.data.update(from: $0.baseAddress!, count: n * per) }
            let logits = net.forward(x, training: false)
            let k = logits.c
            let floatTop = (0..<n).map { argmax(UnsafeBufferPointer(start: logits.data + $0 * k, count: k)) }
            let inputs = (0..<n).map { q.quantizeInput(b.images[($0 * per)..<(($0 + 1) * per)]) }
            let int8Top = try runParallel(interpreter, inputs, threads: threads)
            for i in 0..<n {
                let label = Int(b.labels[i])
                if floatTop[i] == label { floatCorrect += 1 }
                if int8Top[i] == label { int8Correct += 1 }
                if floatTop[i] == int8Top[i] { agree += 1 }
            }
            seen += n
        }
        let d = Double(max(seen, 1))
        return Int8EvaluationResult(count: seen, floatAccuracy: Double(floatCorrect) / d, int8Accuracy: Double(int8Correct) / d,
                                    top1Agreement: Double(agree) / d, seconds: Date().timeIntervalSince(start))
    }

    /// Top-1 class of each int8 input; images split round-robin across threads.
    static func runParallel(_ interpreter: Int8Interpreter, _ inputs: [[Int8]], threads: Int) throws -> [Int] {
        let t = max(1, min(threads, inputs.count))
        let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: inputs.count)
        defer { results.deallocate() }
        let errors = UnsafeMutableBufferPointer<Error?>.allocate(capacity: t)
        defer { errors.deallocate() }
        errors.initialize(repeating: nil)
        DispatchQueue.concurrentPerform(iterations: t) { k in
            var i = k
            while i < inputs.count {
                do {
                    let out = try interpreter.run(inputs: [inputs[i]])[0]
                    results[i] = out.withUnsafeBufferPointer { argmax($0) }
                } catch { errors[k] = error; return }
                i += t
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        return Array(results)
    }

    /// Index of the first maximum (ties resolve to the lower class, as the float path does).
    static func argmax<T: Comparable>(_ v: UnsafeBufferPointer<T>) -> Int {
        var best = 0
        for j in 1..<v.count where v[j] > v[best] { best = j }
        return best
    }
}
