/// A dense Float32 tensor in NHWC order: shape `[N, H, W, C]` for feature maps or `[N, C]` for
/// vectors (pooled features, logits).
///
/// Storage is 64-byte aligned (one cache line, one AVX-512 vector) so kernels may use aligned
/// SIMD loads at the start of every row whose byte length is a multiple of 64.
/// `Tensor` is a reference type on purpose: layers keep their output and gradient buffers and
/// reuse them from batch to batch (fresh 25 MB allocations would cost page faults on every
/// step), and the caches that backward needs are just references to those buffers.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    /// `data` points at `count` contiguous floats, innermost dimension last.
    public let data: UnsafeMutablePointer<Float>

    /// A zero-filled tensor of the given shape (every dimension must be ≥ 1).
    public init(shape: [Int]) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 },
                     "Tensor shape \(shape): every dimension must be ≥ 1")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
        data = raw.bindMemory(to: Float.self, capacity: count)
        data.initialize(repeating: 0, count: count)
    }

    /// A tensor holding a copy of `values` (`values.count` must equal the product of `shape`).
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "Tensor(shape: \(shape), values:): expected \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { UnsafeMutableRawPointer(data).deallocate() }

    /// Batch size (first dimension).
    public var n: Int { shape[0] }
    /// Height for NHWC tensors, 1 for `[N, C]`.
    public var h: Int { shape.count == 4 ? shape[1] : 1 }
    /// Width for NHWC tensors, 1 for `[N, C]`.
    public var w: Int { shape.count == 4 ? shape[2] : 1 }
    /// Channels (last dimension).
    public var c: Int { shape[shape.count - 1] }

    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    /// The contents as an array (tests, checkpoints).
    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public func zero() { data.update(repeating: 0, count: count) }

    public func copy(from other: Tensor) {
        precondition(other.count == count, "Tensor.copy: \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }

    /// A new tensor with the same contents.
    public func clone() -> Tensor {
        let t = Tensor(shape: shape)
        t.copy(from: self)
        return t
    }

    /// Returns `cached` if it already has `shape`, otherwise a fresh zeroed tensor. Layers use
    /// it to keep one output buffer across batches of the same size.
    @inlinable
    public static func reuse(_ cached: Tensor?, shape: [Int]) -> Tensor {
        if let t = cached, t.shape == shape { return t }
        return Tensor(shape: shape)
    }
}
