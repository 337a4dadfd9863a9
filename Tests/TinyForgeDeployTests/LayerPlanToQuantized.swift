import TinyForgeDeploy
import TinyForgeHardware

/// Test-side lowering of a `LayerPlan` into a `QuantizedModel` with seeded random weights,
/// expressing activations the way a TFLite graph does (LEAKY_RELU / HARD_SWISH ops, swish as
/// LOGISTIC + MUL, the SE gate as LOGISTIC), so the generator's fused schedule can be compared
/// op for op with the cost model's `ActivationMemory(runtime: .tinyforge)`.
enum LayerPlanToQuantized {
    static func model(_ lp: LayerPlan, seed: UInt64) throws -> QuantizedModel {
        var src = RandomModelSource(seed: seed)
        var b = QuantizedModelBuilder(name: lp.spec.name ?? "plan")
        var id = [Int: TensorID]()
        let inT = lp.tensors[lp.inputTensor]
        id[lp.inputTensor] = b.addInput(name: "input", shape: [1, inT.height, inT.width, inT.channels], quant: try src.range(magnitude: 2))
        for op in lp.ops {
            let x = id[op.inputs[0]]!
            let out = lp.tensors[op.output]
            let name = op.role
            let fused: FusedActivation = op.activation == .relu ? .relu : op.activation == .relu6 ? .relu6 : .none
            var y: TensorID
            switch op.kind {
            case .conv2d:
                let k = op.kernel, cin = op.inChannels, c = op.outChannels
                y = try b.conv2d(x, weights: src.weights(count: c * k * k * cin, fanIn: k * k * cin, channels: c, channelStride: k * k * cin),
                                 weightShape: [c, k, k, cin], bias: src.bias(c), strideH: op.stride, strideW: op.stride,
                                 activation: fused, output: try src.range(magnitude: 4), name: name)
            case .depthwiseConv2d:
                let k = op.kernel, c = op.outChannels
                y = try b.depthwiseConv2d(x, weights: src.weights(count: k * k * c, fanIn: k * k, channels: c, channelStride: 1),
                                          kernelH: k, kernelW: k, bias: src.bias(c), strideH: op.stride, strideW: op.stride,
                                          activation: fused, output: try src.range(magnitude: 4), name: name)
            case .add:
                y = try b.add(x, id[op.inputs[1]]!, activation: fused, output: try src.range(magnitude: 5), name: name)
            case .mul:
                y = try b.mul(x, id[op.inputs[1]]!, output: try src.range(magnitude: 4), name: name)
            case .globalAvgPool:
                y = try b.mean(x, axes: [1, 2], keepDims: true, output: try src.range(magnitude: 3), name: name)
            case .fullyConnected:
                let cin = op.inChannels, c = op.outChannels
                y = try b.fullyConnected(x, weights: src.weights(count: c * cin, fanIn: cin, channels: c, channelStride: cin), outputs: c,
                                         bias: src.bias(c), keepNumDims: true, output: try src.range(magnitude: 6), name: name)
            }
            switch op.activation {
            case .leakyRelu?: y = b.leakyRelu(y, alpha: 0.01, output: try src.range(magnitude: 6), name: "\(name)/leaky")
            case .hswish?: y = b.hardSwish(y, output: try Quantizer.activationParams(min: -0.4, max: 6), name: "\(name)/hswish")
            case .sigmoid?: y = b.logistic(y, name: "\(name)/sigmoid")
            case .swish?:
                let g = b.logistic(y, name: "\(name)/sigmoid")
                y = try b.mul(y, g, output: try Quantizer.activationParams(min: -0.3, max: 6), name: "\(name)/swish")
            case .relu?, .relu6?, nil: break
            }
            precondition(b.tensor(y).elementCount == out.elements, "\(name): lowered shape differs from the plan")
            id[op.output] = y
        }
        return try b.build(outputs: [id[lp.outputTensor]!])
    }
}
