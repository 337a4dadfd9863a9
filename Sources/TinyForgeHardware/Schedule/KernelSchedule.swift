/// One schedule per network, made from its `LayerPlan` and read by every module that runs or
/// costs it: typed roles and block groups (the engine's `Network`), the weight names
/// (`PlanWeights`, checkpoints), and for each runtime the kernels it executes with fusion,
/// in-place steps, scratch and lifetimes (`ActivationMemory`, the TFLite lowering's
/// activation ops, the C generator's check). Derived once, so the cost model's SRAM figure
/// and the generated arena cannot drift apart.
public struct KernelSchedule: Sendable {
    public var plan: LayerPlan
    /// One group per expanded layer, in network order.
    public var groups: [BlockGroup]
    /// Checkpoint names of each op's tensors, indexed by op (nil: the op has no weights).
    public var weightNames: [OpWeightNames?]
    public var tinyforgeC: RuntimeSchedule
    public var stockTFLM: RuntimeSchedule

    public init(plan: LayerPlan) {
        self.plan = plan
        groups = BlockGroup.groups(plan)
        weightNames = plan.ops.map(OpWeightNames.init)
        tinyforgeC = RuntimeSchedule(plan: plan, runtime: .tinyforgeC)
        stockTFLM = RuntimeSchedule(plan: plan, runtime: .stockTFLM)
    }

    public subscript(runtime: KernelRuntime) -> RuntimeSchedule {
        switch runtime {
        case .tinyforgeC: return tinyforgeC
        case .stockTFLM: return stockTFLM
        }
    }

    /// The SE group whose squeeze is op `op`, if any (the engine builds one layer from it).
    public func squeezeExcite(startingAt op: Int) -> SqueezeExciteGroup? {
        guard plan.ops[op].opRole.part == .seSqueeze else { return nil }
        return groups.lazy.compactMap(\.squeezeExcite).first { $0.squeeze == op }
    }

    /// Every (name, shape) a checkpoint of this network holds, in plan order.
    public var expectedWeights: [(name: String, shape: [Int])] {
        weightNames.flatMap { $0?.tensors ?? [] }
    }

    /// Whether a global average pool keeps its (1,1,C) shape: the SE squeeze does (its
    /// readers are 1×1 convs), the head pool feeding only the classifier flattens to (C).
    public func poolKeepsDims(_ op: PlanOp) -> Bool {
        op.opRole != .headPool || plan.tensors[op.output].consumers.contains { plan.ops[$0].kind != .fullyConnected }
    }
}
