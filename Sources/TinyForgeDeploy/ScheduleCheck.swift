import TinyForgeHardware

extension DeploySchedule {
    /// Checks that the C generator's fused steps of a quantised model execute the network's
    /// `KernelSchedule` for the TinyForge C runtime, step for step: the same kernel, the same
    /// fused activation, the same in-place decision, the same scratch and output size. The
    /// schedule decides fusion and in-place once (in TinyForgeHardware); this check makes a
    /// lowering or a generator that drifts from it fail loudly instead of shipping an arena
    /// the cost model did not promise. A trailing SOFTMAX (the `appendSoftmax` option) is the
    /// one step the plan does not have.
    /// - Throws: `DeployError.scheduleMismatch` naming the first step that differs.
    public static func check(_ steps: [DeployStep], model: QuantizedModel, executes schedule: RuntimeSchedule) throws {
        var deployed = steps
        if deployed.count == schedule.steps.count + 1, deployed.last?.kind == .softmax { deployed.removeLast() }
        for (i, (d, k)) in zip(deployed, schedule.steps).enumerated() {
            func fail(_ reason: String) -> DeployError {
                .scheduleMismatch(step: i, kernel: d.label(model), reason: reason)
            }
            guard let kind = kernelKind(d.kind), kind == k.kind else {
                throw fail("the schedule runs \(k.kind.rawValue) for plan op #\(k.op) here")
            }
            let fused = fusedActivation(d.epilogue)
            let expected = k.fusedActivation.flatMap { $0 == .relu || $0 == .relu6 ? nil : $0 }
            guard fused == expected else {
                throw fail("fuses \(fused?.rawValue ?? "no activation"), the schedule \(expected?.rawValue ?? "none")")
            }
            guard (d.inPlaceOver != nil) == (k.inPlaceOver != nil) else {
                throw fail("runs \(d.inPlaceOver != nil ? "in place" : "out of place"), the schedule \(k.inPlaceOver != nil ? "in place" : "out of place")")
            }
            let scratch = k.scratch.map { schedule.buffers[$0].bytes } ?? 0
            guard d.scratchBytes == scratch else { throw fail("uses \(d.scratchBytes) B of scratch, the schedule \(scratch) B") }
            let out = model.tensors[d.output].elementCount, planned = schedule.buffers[k.output].bytes
            guard out == planned else { throw fail("writes \(out) values, the schedule's buffer holds \(planned)") }
        }
        guard deployed.count == schedule.steps.count else {
            let i = min(deployed.count, schedule.steps.count)
            throw DeployError.scheduleMismatch(step: i, kernel: i < steps.count ? steps[i].label(model) : "(end)",
                                               reason: "the model has \(deployed.count) fused steps, the schedule \(schedule.steps.count)")
        }
    }

    private static func kernelKind(_ k: DeployStep.Kind) -> KernelKind? {
        switch k {
        case .conv: return .conv2d
        case .depthwise: return .depthwiseConv2d
        case .fullyConnected: return .fullyConnected
        case .add: return .add
        case .mul: return .mul
        case .mean: return .mean
        case .logistic: return .logistic
        case .hardSwish: return .hardSwish
        case .leakyRelu: return .leakyRelu
        case .averagePool, .softmax: return nil
        }
    }

    private static func fusedActivation(_ e: DeployStep.Epilogue) -> PlanActivation? {
        switch e {
        case .none: return nil
        case .leakyRelu: return .leakyRelu
        case .hardSwish: return .hswish
        case .logistic: return .sigmoid
        case .swish: return .swish
        }
    }
}
