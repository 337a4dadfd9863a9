import TinyForgeDeploy

/// Seeded small models covering every op and fusion pattern of the C generator.
enum DeployModelZoo {
    enum Act { case none, leaky, hswish, swish }

    /// Adds `act` after `t` as separate ops (LEAKY_RELU / HARD_SWISH / LOGISTIC+MUL), the way
    /// a TFLite graph expresses them; the generator is expected to fuse them.
    static func activation(_ b: inout QuantizedModelBuilder, _ src: inout RandomModelSource, _ t: TensorID,
                           _ act: Act, _ name: String, swishGateFirst: Bool = false) throws -> TensorID {
        switch act {
        case .none: return t
        case .leaky: return b.leakyRelu(t, alpha: 0.1, output: try src.range(magnitude: 6), name: "\(name)/leaky")
        case .hswish: return b.hardSwish(t, output: try Quantizer.activationParams(min: -0.4, max: 6), name: "\(name)/hswish")
        case .swish:
            let g = b.logistic(t, name: "\(name)/sigmoid")
            let out = try Quantizer.activationParams(min: -0.3, max: 5)
            return swishGateFirst ? try b.mul(g, t, output: out, name: "\(name)/swish")
                                  : try b.mul(t, g, output: out, name: "\(name)/swish")
        }
    }

    /// One conv (k×k, stride s) with an activation, on an h×w×cin input.
    static func conv(k: Int, stride: Int, act: Act, h: Int = 9, w: Int = 8, cin: Int = 3, cout: Int = 8,
                     padding: Padding = .same, seed: UInt64) throws -> QuantizedModel {
        var src = RandomModelSource(seed: seed)
        var b = QuantizedModelBuilder(name: "conv\(k)x\(k)s\(stride)")
        let x = b.addInput(name: "x", shape: [1, h, w, cin], quant: try src.range(magnitude: 2))
        var t = try b.conv2d(x, weights: src.weights(count: cout * k * k * cin, fanIn: k * k * cin, channels: cout, channelStride: k * k * cin),
                             weightShape: [cout, k, k, cin], bias: src.bias(cout), strideH: stride, strideW: stride, padding: padding,
                             activation: act == .none ? .relu6 : .none, output: try src.range(magnitude: 4), name: "conv")
        t = try activation(&b, &src, t, act, "conv")
        return try b.build(outputs: [t])
    }

    /// conv 1×1 → depthwise k×k (stride s) → conv 1×1; the depthwise runs in place at stride 1.
    static func depthwise(k: Int, stride: Int, act: Act, padding: Padding = .same, swishGateFirst: Bool = false,
                          seed: UInt64) throws -> QuantizedModel {
        var src = RandomModelSource(seed: seed)
        var b = QuantizedModelBuilder(name: "dw\(k)s\(stride)")
        let c = 12
        let x = b.addInput(name: "x", shape: [1, 10, 9, 4], quant: try src.range(magnitude: 2))
        var t = try b.conv2d(x, weights: src.weights(count: c * 4, fanIn: 4, channels: c, channelStride: 4), weightShape: [c, 1, 1, 4],
                             bias: src.bias(c), output: try src.range(magnitude: 4), name: "expand")
        t = try activation(&b, &src, t, act, "expand", swishGateFirst: swishGateFirst)
        t = try b.depthwiseConv2d(t, weights: src.weights(count: k * k * c, fanIn: k * k, channels: c, channelStride: 1),
                                  kernelH: k, kernelW: k, bias: src.bias(c), strideH: stride, strideW: stride, padding: padding,
                                  output: try src.range(magnitude: 4), name: "dw")
        t = try activation(&b, &src, t, act, "dw", swishGateFirst: swishGateFirst)
        t = try b.conv2d(t, weights: src.weights(count: 6 * c, fanIn: c, channels: 6, channelStride: c), weightShape: [6, 1, 1, c],
                         bias: src.bias(6), output: try src.range(magnitude: 4), name: "project")
        return try b.build(outputs: [t])
    }

    /// MBConv: expand 1×1 → act → dw k×k → act → SE (mean → fc → relu → fc → logistic → mul)
    /// → project 1×1 → residual add.
    static func mbconv(hw: Int = 8, c: Int = 8, expansion: Int = 4, k: Int = 3, act: Act, se: Bool = true,
                       residual: Bool = true, seed: UInt64) throws -> QuantizedModel {
        var src = RandomModelSource(seed: seed)
        var b = QuantizedModelBuilder(name: "mbconv")
        let e = c * expansion, s = max(1, e / 4)
        let x = b.addInput(name: "x", shape: [1, hw, hw, c], quant: try src.range(magnitude: 3))
        var t = try b.conv2d(x, weights: src.weights(count: e * c, fanIn: c, channels: e, channelStride: c), weightShape: [e, 1, 1, c],
                             bias: src.bias(e), activation: act == .none ? .relu6 : .none, output: try src.range(magnitude: 6), name: "expand")
        t = try activation(&b, &src, t, act, "expand")
        t = try b.depthwiseConv2d(t, weights: src.weights(count: k * k * e, fanIn: k * k, channels: e, channelStride: 1), kernelH: k, kernelW: k,
                                  bias: src.bias(e), activation: act == .none ? .relu6 : .none, output: try src.range(magnitude: 6), name: "dw")
        t = try activation(&b, &src, t, act, "dw")
        if se {
            let m = try b.mean(t, axes: [1, 2], keepDims: true, output: try src.range(magnitude: 3), name: "se/squeeze")
            let r = try b.fullyConnected(m, weights: src.weights(count: s * e, fanIn: e, channels: s, channelStride: e), outputs: s,
                                         bias: src.bias(s), activation: .relu, keepNumDims: true,
                                         output: try Quantizer.activationParams(min: 0, max: 3), name: "se/reduce")
            let f = try b.fullyConnected(r, weights: src.weights(count: e * s, fanIn: s, channels: e, channelStride: s), outputs: e,
                                         bias: src.bias(e), keepNumDims: true, output: try src.range(magnitude: 4), name: "se/expand")
            let g = b.logistic(f, name: "se/gate")
            t = try b.mul(t, g, output: try src.range(magnitude: 6), name: "se/scale")
        }
        t = try b.conv2d(t, weights: src.weights(count: c * e, fanIn: e, channels: c, channelStride: e), weightShape: [c, 1, 1, e],
                         bias: src.bias(c), output: try src.range(magnitude: 4), name: "project")
        if residual { t = try b.add(t, x, output: try src.range(magnitude: 5), name: "residual") }
        return try b.build(outputs: [t])
    }

    /// A tiny classifier: conv stem s2 → hswish → avg pool 2×2 → leaky (standalone, after a
    /// pool, so not fusable) → mean → FC (per-tensor weights) → softmax.
    static func classifier(seed: UInt64) throws -> QuantizedModel {
        var src = RandomModelSource(seed: seed)
        var b = QuantizedModelBuilder(name: "classifier")
        let x = b.addInput(name: "image", shape: [1, 16, 16, 3], quant: try src.range(magnitude: 1))
        var t = try b.conv2d(x, weights: src.weights(count: 16 * 27, fanIn: 27, channels: 16, channelStride: 27), weightShape: [16, 3, 3, 3],
                             bias: src.bias(16), strideH: 2, strideW: 2, output: try src.range(magnitude: 4), name: "stem")
        t = try activation(&b, &src, t, .hswish, "stem")
        t = try b.averagePool2d(t, filterH: 2, filterW: 2, strideH: 2, strideW: 2, padding: .same, name: "pool")
        t = b.leakyRelu(t, alpha: 0.2, output: try src.range(magnitude: 4), name: "pool/leaky")
        let m = try b.mean(t, axes: [1, 2], keepDims: false, output: try src.range(magnitude: 3), name: "gap")
        let f = try b.fullyConnected(m, weights: src.weights(count: 10 * 16, fanIn: 16, channels: 10, channelStride: 16), outputs: 10,
                                     bias: src.bias(10), perChannel: false, output: try src.range(magnitude: 6), name: "fc")
        let y = b.softmax(f, name: "softmax")
        return try b.build(outputs: [y])
    }

    /// Unfusable element-wise ops (in place): avg pool 3×3 s1 SAME → HARD_SWISH → LOGISTIC →
    /// SOFTMAX over 36 rows → MEAN over the width axis (rank-3 output).
    static func elementwise(seed: UInt64) throws -> QuantizedModel {
        var src = RandomModelSource(seed: seed)
        var b = QuantizedModelBuilder(name: "elementwise")
        let x = b.addInput(name: "x", shape: [1, 6, 6, 8], quant: try src.range(magnitude: 4))
        var t = try b.averagePool2d(x, filterH: 3, filterW: 3, strideH: 1, strideW: 1, padding: .same, name: "pool")
        t = b.hardSwish(t, output: try Quantizer.activationParams(min: -0.4, max: 4), name: "hswish")
        t = b.logistic(t, name: "sigmoid")
        t = b.softmax(t, beta: 8, name: "softmax")
        t = try b.mean(t, axes: [2], keepDims: false, output: try Quantizer.activationParams(min: 0, max: 0.5), name: "width-mean")
        return try b.build(outputs: [t])
    }

    static func inputs(_ model: QuantizedModel, count: Int, seed: UInt64) -> [[Int8]] {
        var src = RandomModelSource(seed: seed)
        return (0..<count).map { _ in src.input(model.tensors[model.inputs[0]].elementCount) }
    }
}
