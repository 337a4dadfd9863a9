import TinyForgeData
import TinyForgeHardware
import TinyForgeSpec

/// The peak memory of a command, estimated from the network's plan *before* anything large is
/// allocated, so a network or batch too big for the machine is refused with the numbers and
/// the fix instead of "Fatal error: failed to allocate" (exit 134).
///
/// Every term follows what the code holds (bench/reliability/integrity.md compares the total
/// with measured peak RSS): the engine keeps, per conv, its pre-BN output `z` and its output
/// `y` for backward (only `z` when its BN is fused into its reader), and a `dx` buffer the size
/// of its input; buffers grow to the largest batch they see (validation runs at max(batch, 100)). All arithmetic is overflow-checked: a total
/// beyond Int64 is reported as such, never wrapped.
public struct MemoryEstimate: Sendable, CustomStringConvertible {
    /// What runs, and with how many images at once.
    public enum Use: Sendable {
        /// Training with the trainer's validation passes (max(batch, 100) images at a time,
        /// at most `validationImages`).
        case training(batch: Int, validationImages: Int, optimizer: OptimizerConfig.Kind)
        /// Forward passes only, `batch` images at a time.
        case inference(batch: Int)
        /// Quantisation (the float graph executor holds a calibration batch of every tensor
        /// still to be read) after an engine forward of `engineBatch` images (evaluation or the
        /// BN warm-up).
        case quantization(calibrationBatch: Int, engineBatch: Int)
    }

    /// Named terms in bytes, largest first in `description`; nil = beyond Int64.
    public var parts: [(name: String, bytes: Int?)]
    public var total: Int? { parts.reduce(Optional(0)) { acc, p in acc.flatMap { a in p.bytes.flatMap { Checked.add(a, $0) } } } }

    /// Resident memory of the process besides the terms (Swift runtime, Foundation, the binary,
    /// thread stacks, small buffers): the peak RSS of a tiny `tinyforge train` run (62.8 MB)
    /// minus its counted terms (27.1 MB), rounded up (bench/reliability/integrity.md).
    public static let processBaseline = 36 << 20

    public static func of(_ plan: LayerPlan, use: Use, threads: Int, datasetBytes: Int) -> MemoryEstimate {
        let f = 4  // Float32
        var perImageForward = 0, perImageBackward = 0, convWeights = 0
        var ok = true
        func add(_ x: inout Int, _ v: Int?) { if let v = v, let s = Checked.add(x, v) { x = s } else { ok = false } }
        for op in plan.ops {
            let out = plan.tensors[op.output].elements, inp = plan.tensors[op.inputs[0]].elements
            switch op.kind {
            case .conv2d, .depthwiseConv2d:
                add(&perImageForward, Checked.mul(out, linksIntoReader(op, plan) ? 1 : 2))
                add(&convWeights, op.weightCount)
            case .add: add(&perImageForward, Checked.mul(out, op.activation == nil ? 1 : 2)); add(&perImageBackward, out)
            case .globalAvgPool, .mul, .fullyConnected: add(&perImageForward, out)
            }
            add(&perImageBackward, inp)
        }
        let input = plan.tensors[plan.inputTensor].elements
        let weights = Checked.mul(plan.params, f)
        var parts: [(String, Int?)] = [("process baseline", processBaseline), ("dataset in memory", datasetBytes)]
        switch use {
        case let .training(batch, validationImages, optimizer):
            let fwdBatch = max(batch, min(max(batch, 100), validationImages))
            let stateCopies = optimizer == .adamw ? 2 : 1
            // Layers reallocate their buffers when the batch shape changes (training batch ↔
            // validation batch); glibc keeps the freed set in its heap, so RSS grows by up to
            // about one more set of forward buffers over the epochs (measured, see the bench).
            let reshaped = fwdBatch != batch ? Checked.product([perImageForward, batch, f]) : 0
            parts += [
                ("activations kept for backward (\(fwdBatch) images)", Checked.product([perImageForward, fwdBatch, f])),
                ("buffers freed when the batch shape changes", reshaped),
                ("activation gradients (batch \(batch))", Checked.product([perImageBackward, batch, f])),
                ("input batches", Checked.product([input, fwdBatch, 2, f])),
                ("weights, gradients, optimiser state", Checked.mul(weights ?? Int.max, 2 + stateCopies)),
                ("per-thread weight gradients and packed weights", Checked.product([convWeights, threads + 1, f])),
            ]
        case let .inference(batch):
            parts += [
                ("activations (\(batch) images)", Checked.product([perImageForward, batch, f])),
                ("input batch", Checked.product([input, batch, 2, f])),
                ("weights and packed weights", Checked.mul(weights ?? Int.max, 2)),
            ]
        case let .quantization(calibrationBatch, engineBatch):
            parts += [
                ("engine activations (\(engineBatch) images)", Checked.product([perImageForward, engineBatch, f])),
                ("calibration tensors (\(calibrationBatch) images)", Checked.product([peakLiveElements(plan) ?? Int.max, calibrationBatch, f])),
                ("input batches", Checked.product([input, max(calibrationBatch, engineBatch), 2, f])),
                ("float, folded and int8 weights", Checked.mul(weights ?? Int.max, 3)),
            ]
        }
        if !ok { parts.append(("activation sizes", nil)) }
        return MemoryEstimate(parts: parts.map { (name: $0.0, bytes: $0.1) })
    }

    /// Elements per image of the tensors alive at once at the worst op of the schedule (each
    /// lives from its producer to its last reader, as the float graph executor frees them).
    static func peakLiveElements(_ plan: LayerPlan) -> Int? {
        var peak = 0
        for i in plan.ops.indices {
            let live = plan.tensors.filter { t in
                (t.producer <= i) && (t.id == plan.outputTensor || (t.consumers.max() ?? -1) >= i || t.producer == i)
            }
            guard let sum = Checked.sum(live.map(\.elements)) else { return nil }
            peak = max(peak, sum)
        }
        return peak
    }

    /// True when `Network` fuses the op's BN + activation into its only reader
    /// (`ConvBNAct.canLink`: a depthwise or 1×1 stride-1 conv), which then keeps only `z`.
    static func linksIntoReader(_ op: PlanOp, _ plan: LayerPlan) -> Bool {
        let readers = plan.tensors[op.output].consumers
        guard op.output != plan.outputTensor, readers.count == 1 else { return false }
        let r = plan.ops[readers[0]]
        guard r.inputs.count == 1, r.opRole.part?.isSqueezeExcite != true else { return false }
        return r.kind == .depthwiseConv2d || (r.kind == .conv2d && r.kernel == 1 && r.stride == 1)
    }

    /// Throws `MemoryError` when the total exceeds `limit` (nil limit: only a total beyond
    /// Int64 is refused); returns a one-line summary for the command's output.
    @discardableResult
    public func check(against limit: MemoryLimit?, what: String, fix: String) throws -> String {
        guard let t = total else { throw MemoryError.uncountable(what: what, estimate: self, fix: fix) }
        guard let limit = limit else { return "memory: estimated peak \(MemoryLimit.format(t))" }
        if t > limit.bytes { throw MemoryError.exceeds(what: what, estimate: self, limit: limit, fix: fix) }
        return "memory: estimated peak \(MemoryLimit.format(t)) of \(limit)"
    }

    public var description: String {
        let total = self.total.map(MemoryLimit.format) ?? "more than Int64 bytes"
        let terms = parts.sorted { ($0.bytes ?? Int.max) > ($1.bytes ?? Int.max) }
            .map { "\($0.name) \($0.bytes.map(MemoryLimit.format) ?? "> Int64")" }
        return "\(total): " + terms.joined(separator: ", ")
    }
}

/// A command that would need more memory than it may use.
public enum MemoryError: Error, CustomStringConvertible {
    case exceeds(what: String, estimate: MemoryEstimate, limit: MemoryLimit, fix: String)
    case uncountable(what: String, estimate: MemoryEstimate, fix: String)

    public var description: String {
        switch self {
        case let .exceeds(what, estimate, limit, fix):
            return "\(what) needs an estimated \(estimate) — more than the \(limit); \(fix) (or raise --max-memory if the estimate is too cautious)"
        case let .uncountable(what, estimate, fix):
            return "\(what) needs more memory than a 64-bit count can express (\(estimate)); \(fix)"
        }
    }
}
