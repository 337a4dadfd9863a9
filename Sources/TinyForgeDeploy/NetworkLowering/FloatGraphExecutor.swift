import Dispatch
import Foundation

/// Runs a `FloatGraph` in float on a batch, node by node, handing every tensor it produces to
/// an observer (the calibrator). Plain loops (the inner loop over output channels is
/// contiguous, so it vectorises); images are split across `threads`. This is a reference
/// executor for calibration and for checking the lowering, not a training kernel.
///
/// Semantics per node are the float versions of the int8 ops: TFLite SAME padding with the
/// node's (possibly widened) kernel, fused relu / relu6 clamps, MUL broadcasting a (1,1,1,C)
/// gate, MEAN over H and W, LEAKY_RELU, HARD_SWISH `x·relu6(x+3)/6`, LOGISTIC, SOFTMAX.
public struct FloatGraphExecutor: Sendable {
    public let graph: FloatGraph
    public let threads: Int

    public init(graph: FloatGraph, threads: Int = 2) {
        self.graph = graph; self.threads = max(1, threads)
    }

    /// x is (N, H, W, C) normalised float input, `count` = N. Returns the graph output,
    /// (N, elements per sample). `observe(tensor, values)` sees the input and every node output.
    public func run(_ x: [Float], count n: Int, observe: ((Int, [Float]) -> Void)? = nil) throws -> [Float] {
        let inElems = graph.tensors[graph.input].elementsPerSample
        guard n > 0, x.count >= n * inElems else {
            throw NetworkQuantizationError.calibration(reason: "batch of \(n) needs \(n * inElems) input values (shape \(graph.tensors[graph.input].shape) per sample), got \(x.count)")
        }
        var values = [[Float]?](repeating: nil, count: graph.tensors.count)
        values[graph.input] = x.count == n * inElems ? x : Array(x.prefix(n * inElems))
        observe?(graph.input, values[graph.input]!)
        let last = graph.lastUse
        for (i, node) in graph.nodes.enumerated() {
            let y = execute(node, values, n)
            observe?(node.output, y)
            values[node.output] = y
            for t in node.inputs where last[t] == i && t != graph.output { values[t] = nil }
        }
        return values[graph.output]!
    }

    func execute(_ node: FloatGraph.Node, _ values: [[Float]?], _ n: Int) -> [Float] {
        let x = values[node.inputs[0]]!
        let xs = graph.tensors[node.inputs[0]].shape, ys = graph.tensors[node.output].shape
        let outPer = graph.tensors[node.output].elementsPerSample, inPer = graph.tensors[node.inputs[0]].elementsPerSample
        var y = [Float](repeating: 0, count: n * outPer)
        switch node.op {
        case let .conv2d(c):
            parallel(n, &y, outPer) { img, out in Self.conv(x, img * inPer, xs, c, out, ys, depthwise: false) }
        case let .depthwiseConv2d(c):
            parallel(n, &y, outPer) { img, out in Self.conv(x, img * inPer, xs, c, out, ys, depthwise: true) }
        case let .fullyConnected(w, b, fin, fout, act):
            for img in 0..<n {
                for o in 0..<fout { y[img * fout + o] = b[o] }
                for i in 0..<fin {
                    let v = x[img * fin + i]
                    if v == 0 { continue }
                    for o in 0..<fout { y[img * fout + o] += v * w[i * fout + o] }
                }
                for o in 0..<fout { y[img * fout + o] = Self.clamp(y[img * fout + o], act) }
            }
        case let .add(act):
            let b = values[node.inputs[1]]!
            for i in y.indices { y[i] = Self.clamp(x[i] + b[i], act) }
        case .mul:
            let b = values[node.inputs[1]]!
            let bPer = graph.tensors[node.inputs[1]].elementsPerSample
            if bPer == outPer {
                for i in y.indices { y[i] = x[i] * b[i] }
            } else {   // (1,1,1,C) gate broadcast over H·W
                let c = bPer
                for i in y.indices { y[i] = x[i] * b[(i / outPer) * c + i % c] }
            }
        case .mean:
            let c = xs[3], px = xs[1] * xs[2]
            for img in 0..<n {
                var acc = [Double](repeating: 0, count: c)
                for p in 0..<px { for ch in 0..<c { acc[ch] += Double(x[img * inPer + p * c + ch]) } }
                for ch in 0..<c { y[img * c + ch] = Float(acc[ch] / Double(px)) }
            }
        case .logistic:
            for i in y.indices { y[i] = 1 / (1 + Float(exp(Double(-x[i])))) }
        case .hardSwish:
            for i in y.indices { let v = x[i]; y[i] = v * min(max(v + 3, 0), 6) / 6 }
        case let .leakyRelu(alpha):
            for i in y.indices { let v = x[i]; y[i] = v > 0 ? v : alpha * v }
        case .softmax:
            let d = xs.last!
            for r in 0..<(y.count / d) {
                let row = x[(r * d)..<((r + 1) * d)]
                let m = row.max()!
                var sum: Double = 0
                for (k, v) in row.enumerated() { let e = exp(Double(v - m)); y[r * d + k] = Float(e); sum += e }
                for k in 0..<d { y[r * d + k] = Float(Double(y[r * d + k]) / sum) }
            }
        }
        return y
    }

    /// Splits images across threads; each writes its own `outPer` slice of `y`.
    func parallel(_ n: Int, _ y: inout [Float], _ outPer: Int, _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        y.withUnsafeMutableBufferPointer { yb in
            let base = yb.baseAddress!
            let t = min(threads, n)
            DispatchQueue.concurrentPerform(iterations: t) { k in
                var img = k
                while img < n { body(img, base + img * outPer); img += t }
            }
        }
    }

    @inline(__always) static func clamp(_ v: Float, _ act: FusedActivation) -> Float {
        switch act {
        case .none: return v
        case .relu: return max(v, 0)
        case .relu6: return min(max(v, 0), 6)
        }
    }

    /// One image of a conv / depthwise conv. x (H,W,cin) at `xOff`; out (OH,OW,cout).
    /// Weights HWIO `[kh,kw,cin,cout]` or `[kh,kw,C]`; taps outside the image are skipped.
    static func conv(_ x: [Float], _ xOff: Int, _ xs: [Int], _ c: FloatGraph.Conv, _ out: UnsafeMutablePointer<Float>,
                     _ ys: [Int], depthwise: Bool) {
        let h = xs[1], w = xs[2], cin = xs[3], oh = ys[1], ow = ys[2], cout = c.outChannels
        x.withUnsafeBufferPointer { xb in c.weights.withUnsafeBufferPointer { wb in
            let xp = xb.baseAddress! + xOff, wp = wb.baseAddress!
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let acc = out + (oy * ow + ox) * cout
                    for o in 0..<cout { acc[o] = c.bias[o] }
                    for ky in 0..<c.kernelH {
                        let iy = oy * c.stride - c.padTop + ky
                        if iy < 0 || iy >= h { continue }
                        for kx in 0..<c.kernelW {
                            let ix = ox * c.stride - c.padLeft + kx
                            if ix < 0 || ix >= w { continue }
                            let px = xp + (iy * w + ix) * cin
                            if depthwise {
                                let wr = wp + (ky * c.kernelW + kx) * cout
                                for o in 0..<cout { acc[o] += px[o] * wr[o] }
                            } else {
                                let wr = wp + (ky * c.kernelW + kx) * cin * cout
                                for i in 0..<cin {
                                    let v = px[i]
                                    if v == 0 { continue }
                                    let row = wr + i * cout
                                    for o in 0..<cout { acc[o] += v * row[o] }
                                }
                            }
                        }
                    }
                    for o in 0..<cout { acc[o] = clamp(acc[o], c.activation) }
                }
            }
        } }
    }
}
