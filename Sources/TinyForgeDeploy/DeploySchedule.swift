/// The op schedule our C runtime executes: the model's ops after activation fusion, with the
/// in-place decisions made. It is the single source for the memory plan and the generated C,
/// so the arena the plan promises is the arena the code uses.
///
/// Fusion (why: TFLM runs LEAKY_RELU / HARD_SWISH / LOGISTIC as separate ops, so two copies of
/// an expanded tensor are live at once; fused, only the final tensor is ever written):
/// a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED whose output feeds exactly
///   - one LEAKY_RELU, or one HARD_SWISH, or one LOGISTIC (sigmoid, the SE gate), or
///   - one LOGISTIC s and one MUL(t, s) (either operand order) with s read only by that MUL
///     (swish = x·σ(x)),
/// and is not a model output, becomes one kernel: each output element is requantised, clamped
/// by the op's own fused activation, then put through the activation's TFLM integer math.
/// The bytes equal the unfused ops run one after another (same int8 intermediate value).
///
/// In place (why: an expanded tensor and its depthwise output need not coexist):
///   - DEPTHWISE_CONV_2D with stride 1 whose output has the input's spatial size, when its
///     input is an activation that dies at this step: per channel, the output plane goes to
///     an N·H·W scratch buffer, then back into that channel's slots of the input buffer.
///   - ADD / MUL over an operand of the output's size that dies here (MUL prefers the lhs,
///     the SE feature map, as `ActivationMemory` does; ADD takes the first dying operand).
///   - standalone LOGISTIC / HARD_SWISH / LEAKY_RELU (not fusable) over a dying input.
/// "Dies here": not a model output and read by no later step. These are the rules of
/// TinyForgeHardware's `ActivationMemory` for `RuntimeModel.tinyforge`.
public struct DeployStep: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case conv, depthwise, fullyConnected, add, mul, mean, logistic, hardSwish, leakyRelu, averagePool, softmax
    }

    /// Activation applied to each requantised element of a conv/depthwise/FC step.
    public enum Epilogue: Sendable, Equatable {
        case none
        case leakyRelu(LeakyReluParams)
        case hardSwish(HardSwishParams)
        case logistic(LogisticParams)
        /// x · σ(x): LOGISTIC then MUL. `gateIsLhs` says σ(x) was the MUL's first operand.
        case swish(LogisticParams, MulQuantParams, gateIsLhs: Bool)

        public var name: String {
            switch self {
            case .none: return ""
            case .leakyRelu: return "LEAKY_RELU"
            case .hardSwish: return "HARD_SWISH"
            case .logistic: return "LOGISTIC"
            case .swish: return "LOGISTIC+MUL"
            }
        }
    }

    public var kind: Kind
    /// Indices into `model.ops`: the producing op first, then the activation ops fused into it.
    public var ops: [Int]
    public var epilogue: Epilogue
    /// Activation tensors read (constants excluded), in operand order.
    public var inputs: [TensorID]
    /// The tensor this step writes (the fused activation's output when fused).
    public var output: TensorID
    /// The input whose buffer the output overwrites, when the step runs in place.
    public var inPlaceOver: TensorID?
    /// Bytes of step-local scratch (the depthwise in-place channel plane), 0 if none.
    public var scratchBytes: Int

    /// E.g. "CONV_2D+LEAKY_RELU" or "DEPTHWISE_CONV_2D (in place)".
    public func label(_ model: QuantizedModel) -> String {
        var s = model.ops[ops[0]].kind
        if !epilogue.name.isEmpty { s += "+" + epilogue.name }
        if inPlaceOver != nil { s += " (in place)" }
        return s
    }
}

public enum DeploySchedule {
    /// Fuses and schedules `interpreter.model`. Throws `DeployError` for graphs the C runtime
    /// cannot execute (several producers of one tensor, more than one model input/output).
    public static func make(_ interpreter: Int8Interpreter) throws -> [DeployStep] {
        let model = interpreter.model
        let t = model.tensors
        guard model.inputs.count == 1, model.outputs.count == 1 else {
            throw DeployError.inputMismatch(reason: "the C runtime's API takes one input and one output tensor, the model has \(model.inputs.count) inputs \(model.inputs.map { t[$0].name }) and \(model.outputs.count) outputs \(model.outputs.map { t[$0].name }); split the model or concatenate tensors before export")
        }
        if model.outputs[0] == model.inputs[0] {
            throw DeployError.inputMismatch(reason: "output '\(t[model.outputs[0]].name)' is the input tensor; the model must compute something")
        }
        var producer = [TensorID: Int]()
        var consumers = [TensorID: [Int]]()
        for (n, op) in model.ops.enumerated() {
            for out in op.outputs {
                if let p = producer[out] {
                    throw DeployError.unsupported(op: n, kind: op.kind, reason: "tensor '\(t[out].name)' is already written by op #\(p) (\(model.ops[p].kind)); the C runtime gives every tensor one producer")
                }
                if model.inputs.contains(out) || t[out].isConstant {
                    throw DeployError.unsupported(op: n, kind: op.kind, reason: "writes '\(t[out].name)', which is a model input or a constant")
                }
                producer[out] = n
            }
            for case let id? in op.inputs where !t[id].isConstant { consumers[id, default: []].append(n) }
        }
        guard producer[model.outputs[0]] != nil else {
            throw DeployError.inputMismatch(reason: "output '\(t[model.outputs[0]].name)' is not written by any op (a constant or the input); the C runtime returns a computed tensor")
        }
        let outputs = Set(model.outputs)
        func onlyReader(_ id: TensorID) -> Int? {
            guard !outputs.contains(id), let c = consumers[id], c.count == 1 else { return nil }
            return c[0]
        }

        var absorbed = Set<Int>()
        var steps = [DeployStep]()
        for (n, prep) in interpreter.prepared.enumerated() where !absorbed.contains(n) {
            let op = model.ops[n]
            let activations = op.inputs.compactMap { $0 }.filter { !t[$0].isConstant }
            var step = DeployStep(kind: .conv, ops: [n], epilogue: .none, inputs: activations,
                                  output: op.outputs[0], inPlaceOver: nil, scratchBytes: 0)
            switch prep {
            case let .conv(_, _, _, depthwise):
                step.kind = depthwise ? .depthwise : .conv
                fuse(&step, interpreter, consumers: consumers, outputs: outputs, onlyReader: onlyReader, absorbed: &absorbed)
            case .fullyConnected:
                step.kind = .fullyConnected
                fuse(&step, interpreter, consumers: consumers, outputs: outputs, onlyReader: onlyReader, absorbed: &absorbed)
            case .add: step.kind = .add
            case .mul: step.kind = .mul
            case .mean: step.kind = .mean
            case .logistic: step.kind = .logistic
            case .hardSwish: step.kind = .hardSwish
            case .leakyRelu: step.kind = .leakyRelu
            case .averagePool: step.kind = .averagePool
            case .softmax: step.kind = .softmax
            }
            steps.append(step)
        }
        decideInPlace(&steps, interpreter)
        return steps
    }

    /// Folds the activation op(s) reading `step.output` into the step, when the pattern holds.
    private static func fuse(
        _ step: inout DeployStep, _ interpreter: Int8Interpreter, consumers: [TensorID: [Int]],
        outputs: Set<TensorID>, onlyReader: (TensorID) -> Int?, absorbed: inout Set<Int>
    ) {
        let y = step.output
        if let r = onlyReader(y) {
            switch interpreter.prepared[r] {
            case let .leakyRelu(o, p): step.epilogue = .leakyRelu(p); step.output = o.output
            case let .hardSwish(o, p): step.epilogue = .hardSwish(p); step.output = o.output
            case let .logistic(o, p): step.epilogue = .logistic(p); step.output = o.output
            default: return
            }
            step.ops.append(r)
            absorbed.insert(r)
            return
        }
        // Swish: y is read by exactly one LOGISTIC and one MUL(y, σ) / MUL(σ, y).
        guard !outputs.contains(y), let readers = consumers[y], readers.count == 2 else { return }
        for (g, m) in [(readers[0], readers[1]), (readers[1], readers[0])] {
            guard case let .logistic(lo, lp) = interpreter.prepared[g],
                  case let .mul(mo, mp) = interpreter.prepared[m],
                  onlyReader(lo.output) == m else { continue }
            let gateIsLhs: Bool
            if mo.lhs == lo.output && mo.rhs == y { gateIsLhs = true }
            else if mo.lhs == y && mo.rhs == lo.output { gateIsLhs = false }
            else { continue }
            // The MUL must not broadcast (same shapes), which holds when both are y-shaped.
            guard interpreter.model.tensors[mo.output].shape == interpreter.model.tensors[y].shape else { continue }
            step.epilogue = .swish(lp, mp, gateIsLhs: gateIsLhs)
            step.output = mo.output
            step.ops += [g, m]
            absorbed.formUnion([g, m])
            return
        }
    }

    /// Marks steps that may overwrite a dying input (see the type comment for the rules).
    private static func decideInPlace(_ steps: inout [DeployStep], _ interpreter: Int8Interpreter) {
        let model = interpreter.model
        var lastRead = [TensorID: Int]()
        for (i, s) in steps.enumerated() { for id in s.inputs { lastRead[id] = i } }
        let outputs = Set(model.outputs)
        func dies(_ id: TensorID, at i: Int) -> Bool {
            !outputs.contains(id) && !model.tensors[id].isConstant && lastRead[id] == i
        }
        func sameSize(_ a: TensorID, _ b: TensorID) -> Bool {
            model.tensors[a].elementCount == model.tensors[b].elementCount
        }
        for i in steps.indices {
            let s = steps[i]
            switch s.kind {
            case .depthwise:
                guard case let .conv(o, _, _, _) = interpreter.prepared[s.ops[0]],
                      o.strideH == 1, o.strideW == 1, dies(o.input, at: i) else { break }
                let x = model.tensors[o.input].shape, y = model.tensors[s.output].shape
                guard x == y else { break }   // VALID padding shrinks the plane: slots would not line up
                steps[i].inPlaceOver = o.input
                steps[i].scratchBytes = y[0] * y[1] * y[2]
            case .add, .mul:
                let operands: [TensorID]
                switch interpreter.prepared[s.ops[0]] {
                case let .add(o, _), let .mul(o, _): operands = [o.lhs, o.rhs]
                default: operands = []
                }
                steps[i].inPlaceOver = operands.first { dies($0, at: i) && sameSize($0, s.output) }
            case .logistic, .hardSwish, .leakyRelu:
                let x = s.inputs[0]
                if dies(x, at: i) { steps[i].inPlaceOver = x }
            default: break
            }
        }
    }
}
