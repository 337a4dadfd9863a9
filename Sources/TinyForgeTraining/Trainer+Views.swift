import TinyForgeData
import TinyForgeEngine
import TinyForgeSpec

/// Teacher logits of fixed augmented views (consistent distillation): the student trains on
/// view k of image i, so its soft target must be the teacher's logits of that same view.
extension Trainer {
    /// The student's views for `config` (nil without `kdViews`), drawn at the network input.
    public static func studentViews(_ config: TrainConfig, spec: ArchitectureSpec) throws -> AugmentViews? {
        guard let v = config.kdViews else { return nil }
        do {
            return try AugmentViews(config: config.augment, count: v.count, seed: v.seed,
                                    height: spec.input.height, width: spec.input.width)
        } catch let e as DataError {
            throw TrainingError.invalidOption("kd views", "\(e)")
        }
    }

    /// Logits (eval mode) of every image of `data` in order as view `k` of `views` shows it:
    /// N×C, batch by batch as `forEachEvalBatch` runs the clean images.
    public static func logits(_ net: Network, on data: Dataset, normalization: Normalization, views: AugmentViews, view k: Int,
                              batchSize: Int = 100) throws -> [Float] {
        let spec = net.plan.spec
        guard views.height == spec.input.height, views.width == spec.input.width else {
            throw TrainingError.invalidOption("kd views", "views drawn at \(views.height)x\(views.width) but this network's input is \(spec.input.height)x\(spec.input.width); teacher and student need one input size for augmented views (or use clean logits, 0 views)")
        }
        guard (0..<views.count).contains(k) else {
            throw TrainingError.invalidOption("kd views", "view \(k) is outside 0..<\(views.count)")
        }
        let pre = try preprocessor(for: spec, data: data, normalization: normalization, augment: views.config)
        let size = pre.outputSampleSize, classes = spec.numClasses
        var out: [Float] = []
        out.reserveCapacity(data.count * classes)
        var scratch = [Float](repeating: 0, count: pre.scratchSize)
        var input: Tensor?
        var start = 0
        while start < data.count {
            let n = min(batchSize, data.count - start)
            let x = Tensor.reuse(input, shape: [n, spec.input.height, spec.input.width, spec.input.channels]); input = x
            scratch.withUnsafeMutableBufferPointer { tmp in
                for i in 0..<n {
                    pre.process(data, index: start + i, draw: views.draw(view: k, image: start + i), into: x.data + i * size,
                                scratch: tmp.baseAddress!)
                }
            }
            let logits = net.forward(x, training: false)
            out.append(contentsOf: UnsafeBufferPointer(start: logits.data, count: n * logits.c))
            start += n
        }
        return out
    }

    /// All K views' logits, view-major: K×N×C (row k·N + i = view k of image i), the layout
    /// `train` reads with `kdViews`.
    public static func logits(_ net: Network, on data: Dataset, normalization: Normalization, views: AugmentViews,
                              batchSize: Int = 100) throws -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(views.count * data.count * net.plan.spec.numClasses)
        for k in 0..<views.count {
            out.append(contentsOf: try logits(net, on: data, normalization: normalization, views: views, view: k, batchSize: batchSize))
        }
        return out
    }
}
