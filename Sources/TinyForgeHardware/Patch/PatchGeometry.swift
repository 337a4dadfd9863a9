/// A closed range of pixel rows (or columns) of one tensor, `lo ≤ hi`.
public struct PixelSpan: Sendable, Hashable, CustomStringConvertible {
    public var lo: Int
    public var hi: Int
    public init(_ lo: Int, _ hi: Int) { self.lo = lo; self.hi = hi }
    public var count: Int { hi - lo + 1 }
    /// The smallest span holding both (what one buffer must hold for two readers).
    public func union(_ o: PixelSpan) -> PixelSpan { PixelSpan(Swift.min(lo, o.lo), Swift.max(hi, o.hi)) }
    public var description: String { "\(lo)…\(hi)" }
}

/// A rectangle of pixels (rows × columns, all channels) of one tensor: the part of it one
/// tile of a patch stage computes or reads.
public struct PatchRegion: Sendable, Hashable, CustomStringConvertible {
    public var rows: PixelSpan
    public var cols: PixelSpan
    public init(rows: PixelSpan, cols: PixelSpan) { self.rows = rows; self.cols = cols }
    public var area: Int { rows.count * cols.count }
    public func union(_ o: PatchRegion) -> PatchRegion { PatchRegion(rows: rows.union(o.rows), cols: cols.union(o.cols)) }
    public var description: String { "rows \(rows) cols \(cols)" }
}

/// The integer receptive-field arithmetic of patch-based inference, shared by the cost model
/// (`PatchStage`) and the int8 interpreter's patch executor so both cut the same tiles and
/// read the same input ranges.
public enum PatchGeometry {
    /// Splits `size` pixels into `parts` contiguous spans, tile `i` starting at `i·size/parts`
    /// (sizes differ by at most one). Needs `1 ≤ parts ≤ size`.
    public static func split(_ size: Int, parts: Int) -> [PixelSpan] {
        precondition(parts >= 1 && parts <= size, "split \(size) pixels into \(parts) parts")
        return (0..<parts).map { PixelSpan($0 * size / parts, ($0 + 1) * size / parts - 1) }
    }

    /// The kernel size the deployed int8 model runs for a k×k conv at `stride` on `input`
    /// pixels. The engine pads like PyTorch (k/2 before); TFLite's SAME puts the odd pixel
    /// after, so where the two differ the lowering widens the kernel by one zero tap
    /// (`FloatGraph.pytorchPadding`). The zero tap is still read, so a tile's input range must
    /// cover it — this returns the window length the executor reads.
    public static func deployedKernel(input n: Int, kernel k: Int, stride s: Int) -> Int {
        let torchOut = (n + 2 * (k / 2) - k) / s + 1
        for kk in [k, k + 1] {
            let out = (n + s - 1) / s
            if out == torchOut && max(0, (out - 1) * s + kk - n) / 2 == k / 2 { return kk }
        }
        return k
    }

    /// The input pixels output pixels `out` read through a window of `kernel` taps starting
    /// `padBefore` pixels before `o·stride`, clipped to the `input` pixels that exist (padding
    /// pixels are not stored: the kernels skip them).
    public static func inputSpan(_ out: PixelSpan, input n: Int, kernel: Int, stride: Int, padBefore: Int) -> PixelSpan {
        PixelSpan(max(0, out.lo * stride - padBefore), min(n - 1, out.hi * stride - padBefore + kernel - 1))
    }

    /// `inputSpan` for a plan conv / depthwise along one axis of `n` pixels, with the deployed
    /// window (`deployedKernel`) and the engine's k/2 padding.
    public static func convInputSpan(_ out: PixelSpan, input n: Int, kernel k: Int, stride s: Int) -> PixelSpan {
        inputSpan(out, input: n, kernel: deployedKernel(input: n, kernel: k, stride: s), stride: s, padBefore: k / 2)
    }
}
