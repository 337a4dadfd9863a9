/// The inference runtimes a network is scheduled for.
public enum KernelRuntime: String, Sendable, CaseIterable {
    /// TinyForge's C runtime: every activation (leaky_relu, swish, hswish, the SE sigmoid) and
    /// the BN are fused into the producing conv / depthwise / fully connected kernel;
    /// depthwise stride-1 convs, SE scaling and residual adds run in place when their input
    /// dies there (a depthwise in place needs one output plane, H·W bytes, of scratch). An
    /// activation after a residual add other than relu/relu6 runs as its own kernel(s), in
    /// place over the sum.
    case tinyforgeC = "tinyforge"
    /// A stock TFLite Micro interpreter (reference kernels): only relu/relu6 fuse; leaky_relu
    /// and hard_swish are kernels of their own, swish is LOGISTIC + MUL, the SE gate is
    /// LOGISTIC; nothing runs in place; TFLM's greedy planner places the buffers. Persistent
    /// allocations (tensor structs, per-channel multipliers) are not included: this is the
    /// activation ("head") part of TFLM's arena.
    case stockTFLM = "tflm"
}

/// A kernel as a runtime executes it (raw value = the name reports print).
public enum KernelKind: String, Sendable, CaseIterable {
    case conv2d
    case depthwiseConv2d = "depthwise_conv2d"
    case fullyConnected = "fully_connected"
    case add, mul
    /// Mean over H and W (TFLite MEAN).
    case mean = "global_avg_pool"
    case logistic
    case hardSwish = "hard_swish"
    case leakyRelu = "leaky_relu"
}

/// One executed kernel of a runtime schedule.
public struct KernelStep: Sendable, Equatable {
    /// The `LayerPlan` op this kernel belongs to.
    public var op: Int
    public var kind: KernelKind
    /// The activation applied to each output element inside this kernel (nil: none).
    public var fusedActivation: PlanActivation?
    /// Buffers read (ids into `RuntimeSchedule.buffers`), in operand order.
    public var inputs: [Int]
    /// The buffer written.
    public var output: Int
    /// The input buffer whose storage the output overwrites, when the kernel runs in place.
    public var inPlaceOver: Int?
    /// Step-local scratch buffer (the depthwise in-place plane), nil if none.
    public var scratch: Int?
}

/// A buffer a schedule reads or writes: a plan tensor, a pre-activation copy (stock TFLM),
/// an intermediate of a split activation, or a kernel's scratch.
public struct ScheduleBuffer: Sendable, Equatable {
    public var id: Int
    public var bytes: Int
    /// The plan tensor it holds, nil for buffers the plan has no tensor for.
    public var tensor: Int?
    /// E.g. "t4 14×14×64" or "t4 14×14×64 pre-leaky_relu".
    public var label: String
}

/// The executed steps of one runtime for one plan, with the storage every buffer lives in
/// and its lifetime in steps. `ActivationMemory` places these lifetimes; the C generator's
/// fused schedule must execute these steps (`DeploySchedule.check`).
public struct RuntimeSchedule: Sendable {
    public var runtime: KernelRuntime
    public var steps: [KernelStep]
    /// Indexed by buffer id; ids < the plan's tensor count are the plan tensors.
    public var buffers: [ScheduleBuffer]
    /// The storage root of each buffer: an in-place output shares its input's root.
    public var storage: [Int]
    /// One request per storage root touched, lifetimes in step indices (sorted by id).
    public var lifetimes: [BufferRequest]

    /// Bytes of the buffers live at each step (unaligned).
    public var liveBytesPerStep: [Int] {
        steps.indices.map { i in lifetimes.lazy.filter { $0.firstStep <= i && i <= $0.lastStep }.reduce(0) { $0 + $1.size } }
    }

    /// The most bytes live at any one step: no placement of these lifetimes does better.
    public var peakLiveBytes: Int { liveBytesPerStep.max() ?? 0 }

    /// Lifetimes from the steps: the plan input is live from step 0; every storage root from
    /// the first step touching any buffer it holds to the last; in-place chains are one
    /// lifetime; a scratch buffer lives at its step only.
    static func lifetimes(steps: [KernelStep], buffers: [ScheduleBuffer], storage: [Int],
                          input: Int) -> [BufferRequest] {
        var first: [Int: Int] = [:], last: [Int: Int] = [:], size: [Int: Int] = [:]
        func touch(_ b: Int, _ step: Int) {
            let r = storage[b]
            first[r] = min(first[r] ?? step, step)
            last[r] = max(last[r] ?? step, step)
            size[r] = max(size[r] ?? 0, buffers[b].bytes)
        }
        touch(input, 0)
        for (i, s) in steps.enumerated() {
            for b in s.inputs { touch(b, i) }
            touch(s.output, i)
            if let sc = s.scratch { touch(sc, i) }
        }
        return first.keys.sorted().map { BufferRequest(id: $0, size: size[$0]!, firstStep: first[$0]!, lastStep: last[$0]!) }
    }
}
