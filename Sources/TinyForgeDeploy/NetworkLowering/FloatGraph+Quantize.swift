/// The int8 model of a float graph, with the bookkeeping the exporters and reports need.
public struct QuantizedNetwork: Sendable {
    public var model: QuantizedModel
    public var graph: FloatGraph
    /// `model.ops[i]` comes from the plan op `opRoles[i]`.
    public var opRoles: [String]
    /// Graph tensor id → model tensor id.
    public var tensorMap: [Int: TensorID]
    /// How the activation ranges were calibrated (nil when they were given directly).
    public var calibrationMethod: CalibrationMethod?
    public var calibrationImages = 0
    public var inputQuant: QuantParams { model.tensors[model.inputs[0]].quant! }
    public var outputQuant: QuantParams { model.tensors[model.outputs[0]].quant! }

    /// int8 input from a normalised float image (N·H·W·C values): `q = round(x/s) + zp`,
    /// clamped to [−128, 127] — what the device does before `tf_model_invoke`.
    public func quantizeInput(_ x: ArraySlice<Float>) -> [Int8] {
        let p = inputQuant
        return x.map { Quantizer.quantize($0, p) }
    }

    public func dequantizeOutput(_ q: [Int8]) -> [Float] {
        let p = outputQuant
        return q.map { Quantizer.dequantize($0, p) }
    }
}

extension FloatGraph {
    /// Quantises the graph node by node with `QuantizedModelBuilder`: per-channel symmetric
    /// int8 weights, int32 biases, per-tensor asymmetric activations from `range(tensor)`
    /// (fixed 1/256, −128 for LOGISTIC / SOFTMAX outputs). Weights are transposed to TFLite's
    /// layouts (OHWI conv filters, (O,I) FC weights; depthwise `[kh,kw,C]` is already (1,KH,KW,C)).
    ///
    /// HARD_SWISH: TFLM needs `s_in/128 ≤ s_out`; a calibrated output range narrower than
    /// that is widened (upwards) to satisfy it rather than producing a model TFLM rejects.
    ///
    /// - Throws: `NetworkQuantizationError.layer` naming the plan op whose quantisation or
    ///   TFLM validation (`Int8Interpreter`) fails.
    public func quantize(range: (Int) throws -> ActivationRange) throws -> QuantizedNetwork {
        var b = QuantizedModelBuilder(name: name)
        var ids = [Int: TensorID]()
        var roles = [String]()
        func params(_ t: Int, role: String) throws -> QuantParams {
            if let f = tensors[t].fixedQuant { return f }
            let r = try range(t)
            // A collapsed range (a dead layer) would give a scale so small that TFLM's
            // relu6 bound 6/scale overflows int32 and TFLM refuses the model: keep ≥ 1e-5.
            let lo = Swift.min(r.min, 0), hi = Swift.max(r.max, 0)
            do { return try Quantizer.activationParams(min: lo, max: Swift.max(hi, lo + Self.minimumRange)) } catch {
                throw NetworkQuantizationError.layer(role: role, reason: "tensor '\(tensors[t].name)': \(error)")
            }
        }
        ids[input] = b.addInput(name: tensors[input].name, shape: tensors[input].shape, quant: try params(input, role: "input"))
        for node in nodes {
            let x = ids[node.inputs[0]]!
            let name = tensors[node.output].name
            let before = b.ops.count
            do {
                var q = try params(node.output, role: node.role)
                let y: TensorID
                switch node.op {
                case let .conv2d(c):
                    y = try b.conv2d(x, weights: Self.hwioToOhwi(c), weightShape: [c.outChannels, c.kernelH, c.kernelW, c.inChannels],
                                     bias: c.bias, strideH: c.stride, strideW: c.stride, padding: .same, activation: c.activation,
                                     output: q, name: name)
                case let .depthwiseConv2d(c):
                    y = try b.depthwiseConv2d(x, weights: c.weights, kernelH: c.kernelH, kernelW: c.kernelW, bias: c.bias,
                                              strideH: c.stride, strideW: c.stride, padding: .same, activation: c.activation,
                                              output: q, name: name)
                case let .fullyConnected(w, bias, fin, fout, act):
                    var oi = [Float](repeating: 0, count: fin * fout)
                    for i in 0..<fin { for o in 0..<fout { oi[o * fin + i] = w[i * fout + o] } }
                    y = try b.fullyConnected(x, weights: oi, outputs: fout, bias: bias, activation: act, output: q, name: name)
                case let .add(act):
                    y = try b.add(x, ids[node.inputs[1]]!, activation: act, output: q, name: name)
                case .mul:
                    y = try b.mul(x, ids[node.inputs[1]]!, output: q, name: name)
                case let .mean(keep):
                    y = try b.mean(x, axes: [1, 2], keepDims: keep, output: q, name: name)
                case .logistic:
                    y = b.logistic(x, name: name)
                case .hardSwish:
                    let sIn = b.tensor(x).quant!.scale
                    if q.scale < sIn / 128 {
                        let r = try range(node.output)
                        q = try Quantizer.activationParams(min: r.min, max: Swift.min(r.min, 0) + 255 * sIn / 128 * 1.001)
                    }
                    y = b.hardSwish(x, output: q, name: name)
                case let .leakyRelu(alpha):
                    y = b.leakyRelu(x, alpha: alpha, output: q, name: name)
                case .softmax:
                    y = b.softmax(x, name: name)
                }
                guard b.tensor(y).shape == tensors[node.output].shape else {
                    throw DeployError.shapeMismatch(what: "\(node.op.kind) output '\(name)'", expected: tensors[node.output].shape,
                                                    got: b.tensor(y).shape)
                }
                ids[node.output] = y
            } catch let e as NetworkQuantizationError {
                throw e
            } catch {
                throw NetworkQuantizationError.layer(role: node.role, reason: "\(node.op.kind): \(error)")
            }
            roles += Array(repeating: node.role, count: b.ops.count - before)
        }
        let model: QuantizedModel
        do {
            model = try b.build(outputs: [ids[output]!])
            _ = try Int8Interpreter(model: model)   // TFLM's Prepare checks, with the op named
        } catch let DeployError.unsupported(op, kind, reason) where op >= 0 && op < roles.count {
            throw NetworkQuantizationError.layer(role: roles[op], reason: "\(kind): \(reason)")
        }
        return QuantizedNetwork(model: model, graph: self, opRoles: roles, tensorMap: ids)
    }

    /// Narrowest activation range quantised (scale ≥ 1e-5/255).
    public static let minimumRange: Float = 1e-5

    /// `[kh,kw,cin,cout]` → `[cout,kh,kw,cin]`.
    static func hwioToOhwi(_ c: Conv) -> [Float] {
        let khw = c.kernelH * c.kernelW, cin = c.inChannels, cout = c.outChannels
        var out = [Float](repeating: 0, count: c.weights.count)
        for p in 0..<khw {
            for i in 0..<cin {
                for o in 0..<cout { out[(o * khw + p) * cin + i] = c.weights[(p * cin + i) * cout + o] }
            }
        }
        return out
    }
}
