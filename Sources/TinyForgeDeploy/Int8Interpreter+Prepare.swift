// Prepare step of `Int8Interpreter`: per-op validation with the constraints TFLM enforces,
// and the fixed-point parameters TFLM's Prepare functions compute. One function per op family.

/// The checks every op's Prepare shares; errors name the op, its index and the tensor.
struct PrepareCheck {
    let t: [QTensor]
    let index: Int
    let kind: String

    func fail(_ reason: String) -> DeployError { .unsupported(op: index, kind: kind, reason: reason) }

    /// An int8 tensor with per-tensor quantisation (activations).
    func activation(_ id: TensorID, _ role: String) throws -> QuantParams {
        guard t[id].type == .int8, let q = t[id].quant, !q.isPerChannel else {
            throw fail("\(role) '\(t[id].name)' must be int8 with per-tensor quantisation")
        }
        guard q.zeroPoint >= -128 && q.zeroPoint <= 127 else {
            throw fail("\(role) '\(t[id].name)' zero point \(q.zeroPoint) is outside [-128, 127]")
        }
        return q
    }

    func constant(_ id: TensorID, _ role: String, _ type: TensorType) throws {
        guard t[id].type == type, t[id].data != nil else {
            throw fail("\(role) '\(t[id].name)' must be a constant \(type) tensor")
        }
    }

    func expectShape(_ id: TensorID, _ expected: [Int], _ role: String) throws {
        guard t[id].shape == expected else {
            throw fail("\(role) '\(t[id].name)' has shape \(t[id].shape), expected \(expected)")
        }
    }
}

extension Int8Interpreter {
    static func prepare(_ op: QuantizedOp, index n: Int, model: QuantizedModel) throws -> PreparedOp {
        let c = PrepareCheck(t: model.tensors, index: n, kind: op.kind), t = c.t
        switch op {
        case let .conv2d(o): return try prepareConv(o, depthwise: false, c)
        case let .depthwiseConv2d(o): return try prepareConv(o, depthwise: true, c)
        case let .fullyConnected(o): return try prepareFullyConnected(o, c)
        case let .add(o): return try prepareElementwise(o, isAdd: true, c)
        case let .mul(o): return try prepareElementwise(o, isAdd: false, c)
        case let .mean(o): return try prepareMean(o, c)
        case let .averagePool2d(o): return try prepareAveragePool(o, c)
        case let .logistic(o):
            let inQ = try c.activation(o.input, "input"), outQ = try c.activation(o.output, "output")
            try c.expectShape(o.output, t[o.input].shape, "output")
            guard outQ.zeroPoint == -128 else {
                throw c.fail("TFLM requires the int8 LOGISTIC output zero point to be -128 (scale 1/256), got \(outQ.zeroPoint)")
            }
            return .logistic(o, LogisticParams(input: inQ))
        case let .hardSwish(o):
            let inQ = try c.activation(o.input, "input"), outQ = try c.activation(o.output, "output")
            try c.expectShape(o.output, t[o.input].shape, "output")
            let p = HardSwishParams(input: inQ, output: outQ)
            guard p.outputMultiplierExponent <= 0 else {
                throw c.fail("output scale \(outQ.scale) is too small for the input scale \(inQ.scale) (TFLM needs input_scale/128 <= output_scale)")
            }
            return .hardSwish(o, p)
        case let .leakyRelu(o):
            let inQ = try c.activation(o.input, "input"), outQ = try c.activation(o.output, "output")
            try c.expectShape(o.output, t[o.input].shape, "output")
            return .leakyRelu(o, LeakyReluParams(input: inQ, output: outQ, alpha: o.alpha))
        case let .softmax(o):
            let inQ = try c.activation(o.input, "input"), outQ = try c.activation(o.output, "output")
            try c.expectShape(o.output, t[o.input].shape, "output")
            guard outQ.zeroPoint == -128, outQ.scale == 1.0 / 256 else {
                throw c.fail("TFLM requires the int8 SOFTMAX output to have scale exactly 1/256 and zero point -128")
            }
            return .softmax(o, SoftmaxParams(input: inQ, beta: o.beta), depth: t[o.input].shape.last!)
        }
    }

    static func prepareConv(_ o: Conv2DOp, depthwise: Bool, _ c: PrepareCheck) throws -> PreparedOp {
        let t = c.t
        let inQ = try c.activation(o.input, "input"), outQ = try c.activation(o.output, "output")
        try c.constant(o.filter, "filter", .int8)
        let x = t[o.input].shape, f = t[o.filter].shape
        guard x.count == 4, f.count == 4, o.strideH > 0, o.strideW > 0 else {
            throw c.fail("input and filter must be rank 4 (NHWC, OHWI) and strides positive")
        }
        let cout = depthwise ? f[3] : f[0]
        if depthwise {
            guard f[0] == 1, f[3] == x[3] else {
                throw c.fail("depthwise filter must be (1,KH,KW,C) with C = input channels \(x[3]) (depth multiplier 1), got \(f)")
            }
        } else {
            guard f[3] == x[3] else { throw c.fail("filter \(f) input depth must equal input channels \(x[3])") }
        }
        let oh = o.padding.outputSize(input: x[1], kernel: f[1], stride: o.strideH)
        let ow = o.padding.outputSize(input: x[2], kernel: f[2], stride: o.strideW)
        try c.expectShape(o.output, [x[0], oh, ow, cout], "output")
        let fq = t[o.filter].quant!
        guard fq.scales.count == 1 || fq.scales.count == cout, fq.zeroPoints.allSatisfy({ $0 == 0 }) else {
            throw c.fail("filter needs 1 or \(cout) scales and zero points 0 (symmetric), got \(fq.scales.count) scales")
        }
        if let b = o.bias {
            try c.constant(b, "bias", .int32)
            try c.expectShape(b, [cout], "bias")
        }
        let g = ConvGeometry(
            strideH: o.strideH, strideW: o.strideW,
            padTop: o.padding.before(input: x[1], kernel: f[1], stride: o.strideH, output: oh),
            padLeft: o.padding.before(input: x[2], kernel: f[2], stride: o.strideW, output: ow))
        // PopulateConvolutionQuantizationParams: double(s_in) * double(s_w[c]) / double(s_out).
        let mults = (0..<cout).map { c in
            QuantizedMultiplier(Double(inQ.scale) * Double(fq.scales[fq.scales.count == 1 ? 0 : c]) / Double(outQ.scale))
        }
        let range = o.activation.int8Range(output: outQ)
        let q = ConvQuantParams(inputOffset: -inQ.zeroPoint, filterOffset: 0, outputOffset: outQ.zeroPoint,
                                multipliers: mults, activationMin: range.min, activationMax: range.max)
        return .conv(o, g, q, depthwise: depthwise)
    }

    static func prepareFullyConnected(_ o: FullyConnectedOp, _ c: PrepareCheck) throws -> PreparedOp {
        let t = c.t
        let inQ = try c.activation(o.input, "input"), outQ = try c.activation(o.output, "output")
        try c.constant(o.weights, "weights", .int8)
        let w = t[o.weights].shape
        guard w.count == 2, t[o.input].elementCount % w[1] == 0 else {
            throw c.fail("weights must be (O, I) with I dividing the input size \(t[o.input].elementCount), got \(w)")
        }
        let batches = t[o.input].elementCount / w[1]
        guard t[o.output].elementCount == batches * w[0], t[o.output].shape.last == w[0] else {
            throw c.fail("output shape \(t[o.output].shape) must end in \(w[0]) and hold \(batches)×\(w[0]) values")
        }
        if let b = o.bias {
            try c.constant(b, "bias", .int32)
            try c.expectShape(b, [w[0]], "bias")
        }
        let wq = t[o.weights].quant!
        let mults: [QuantizedMultiplier]
        if wq.isPerChannel {
            guard wq.scales.count == w[0], wq.quantizedDimension == 0 else {
                throw c.fail("per-channel weights need \(w[0]) scales along dimension 0")
            }
            mults = wq.scales.map { QuantizedMultiplier(Double(inQ.scale) * Double($0) / Double(outQ.scale)) }
        } else {
            // GetQuantizedConvolutionMultipler: the product is formed in float first.
            mults = [QuantizedMultiplier(Double(inQ.scale * wq.scale) / Double(outQ.scale))]
        }
        let range = o.activation.int8Range(output: outQ)
        let q = ConvQuantParams(inputOffset: -inQ.zeroPoint, filterOffset: -wq.zeroPoint, outputOffset: outQ.zeroPoint,
                                multipliers: mults, activationMin: range.min, activationMax: range.max)
        return .fullyConnected(o, batches: batches, inputDepth: w[1], outputDepth: w[0], q)
    }

    static func prepareElementwise(_ o: BinaryOp, isAdd: Bool, _ c: PrepareCheck) throws -> PreparedOp {
        let t = c.t
        let q1 = try c.activation(o.lhs, "lhs"), q2 = try c.activation(o.rhs, "rhs"), qo = try c.activation(o.output, "output")
        let a = Shape4(extending: t[o.lhs].shape), b = Shape4(extending: t[o.rhs].shape)
        let y = Shape4(extending: t[o.output].shape)
        for (da, db, dy) in [(a.n, b.n, y.n), (a.h, b.h, y.h), (a.w, b.w, y.w), (a.c, b.c, y.c)] {
            guard (da == dy || da == 1) && (db == dy || db == 1) && max(da, db) == dy else {
                throw c.fail("shapes \(t[o.lhs].shape) and \(t[o.rhs].shape) do not broadcast to \(t[o.output].shape)")
            }
        }
        if isAdd { return .add(o, AddQuantParams(input1: q1, input2: q2, output: qo, activation: o.activation)) }
        return .mul(o, MulQuantParams(input1: q1, input2: q2, output: qo, activation: o.activation))
    }

    static func prepareMean(_ o: MeanOp, _ c: PrepareCheck) throws -> PreparedOp {
        let t = c.t
        let inQ = try c.activation(o.input, "input"), outQ = try c.activation(o.output, "output")
        try c.constant(o.axis, "axis", .int32)
        guard case let .int32(raw)? = t[o.axis].data else { throw c.fail("axis must be int32") }
        let rank = t[o.input].shape.count
        let axes = raw.map { Int($0) < 0 ? Int($0) + rank : Int($0) }
        guard axes.allSatisfy({ $0 >= 0 && $0 < rank }), Set(axes).count == axes.count else {
            throw c.fail("axes \(raw) are out of range for rank \(rank) or repeated")
        }
        var expected = [Int]()
        for (d, s) in t[o.input].shape.enumerated() {
            if !axes.contains(d) { expected.append(s) } else if o.keepDims { expected.append(1) }
        }
        try c.expectShape(o.output, expected, "output")
        return .mean(o, axes: axes, multiplier: QuantizedMultiplier(Double(inQ.scale) / Double(outQ.scale)))
    }

    static func prepareAveragePool(_ o: Pool2DOp, _ c: PrepareCheck) throws -> PreparedOp {
        let t = c.t
        let inQ = try c.activation(o.input, "input"), outQ = try c.activation(o.output, "output")
        guard abs(inQ.scale - outQ.scale) <= 1e-6, inQ.zeroPoint == outQ.zeroPoint else {
            throw c.fail("TFLM requires input and output of AVERAGE_POOL_2D to share scale and zero point")
        }
        let x = t[o.input].shape
        guard x.count == 4, o.strideH > 0, o.strideW > 0, o.filterH > 0, o.filterW > 0,
              o.padding == .same || (o.filterH <= x[1] && o.filterW <= x[2]) else {
            throw c.fail("input must be NHWC and the filter must fit (VALID) with positive strides")
        }
        let oh = o.padding.outputSize(input: x[1], kernel: o.filterH, stride: o.strideH)
        let ow = o.padding.outputSize(input: x[2], kernel: o.filterW, stride: o.strideW)
        try c.expectShape(o.output, [x[0], oh, ow, x[3]], "output")
        let padTop = o.padding.before(input: x[1], kernel: o.filterH, stride: o.strideH, output: oh)
        let padLeft = o.padding.before(input: x[2], kernel: o.filterW, stride: o.strideW, output: ow)
        guard padTop < o.filterH, padLeft < o.filterW else { throw c.fail("padding leaves windows with no input pixel") }
        let range = o.activation.int8Range(output: outQ)
        return .averagePool(o, ConvGeometry(strideH: o.strideH, strideW: o.strideW, padTop: padTop, padLeft: padLeft),
                            min: range.min, max: range.max)
    }
}
