import TinyForgeHardware

/// A patch stage of an int8 model: ops `first..<ops` run tile by tile over a `grid`×`grid`
/// tiling of the one tensor they hand to the rest (`output`), reading one whole tensor
/// (`input`: the model input when `first` is 0); the ops around it run op by op.
/// For every tile and every tensor of the stage, `tiles` holds the rectangle computed (or,
/// for the model input, read): back from the tile through every op's own geometry — the
/// filter's taps, stride and SAME padding the prepared kernel uses, so a widened kernel's
/// zero tap is inside the range, as the kernel reads it.
public struct Int8PatchStage: Sendable, Equatable {
    /// The stage's first model op.
    public var first: Int
    /// The model op after the stage (the stage is ops `first..<ops`).
    public var ops: Int
    /// The tensor the stage reads in full.
    public var input: TensorID
    public var grid: Int
    public var output: TensorID
    /// `tiles[t][tensor]`, tiles in row-major order (`PatchGeometry.split` of both axes).
    public var tiles: [[TensorID: PatchRegion]]

    /// The model ops of the cost model's `plan`: every stock-TFLM step of a plan op before the
    /// split is one model op (`FloatGraph(plan:)` lowers op by op, one node per step).
    public static func opCount(_ plan: PatchPlan, schedule: KernelSchedule) -> Int {
        schedule.stockTFLM.steps.lazy.filter { $0.op < plan.stage.splitOp }.count
    }

    /// The model ops of one cost-model stage (`opCount`'s rule at both ends).
    public static func opRange(_ stage: PatchStage, schedule: KernelSchedule) -> Range<Int> {
        let steps = schedule.stockTFLM.steps
        return steps.lazy.filter { $0.op < stage.startOp }.count..<steps.lazy.filter { $0.op < stage.splitOp }.count
    }

    /// The int8 stages of every stage of `plan`, in order.
    /// - Throws: `DeployError.patchStage` as `init`.
    public static func stages(_ plan: PatchPlan, interpreter: Int8Interpreter, schedule: KernelSchedule) throws -> [Int8PatchStage] {
        try plan.stages.map { st in
            let r = opRange(st, schedule: schedule)
            return try Int8PatchStage(interpreter: interpreter, first: r.lowerBound, ops: r.upperBound, grid: st.grid)
        }
    }

    /// - Throws: `DeployError.patchStage` when the ops hand more than one tensor to the rest,
    ///   read more than one tensor from before them, contain an op that is not local
    ///   (pooling, fully connected, a broadcast MUL), or the grid is finer than the output.
    public init(interpreter: Int8Interpreter, first: Int = 0, ops: Int, grid: Int) throws {
        let model = interpreter.model
        guard first >= 0, ops > first, ops < model.ops.count else {
            throw DeployError.patchStage(reason: "the stage must be ops \(first)..<1…\(model.ops.count - 1) of \(model.ops.count), got ..<\(ops)")
        }
        let produced = Set(model.ops[first..<ops].map { $0.outputs[0] })
        let before = Set(model.ops[0..<first].map { $0.outputs[0] }).union(model.inputs)
        let readAfter = Set(model.ops[ops...].flatMap { $0.inputs.compactMap { $0 } })
        let crossing = readAfter.intersection(produced)
        let external = Set(model.ops[first..<ops].flatMap { $0.inputs.compactMap { $0 } }).intersection(before)
        guard crossing.count == 1, let out = crossing.first,
              first > 0 || model.inputs.allSatisfy({ !readAfter.contains($0) }) else {
            throw DeployError.patchStage(reason: "ops \(first)..<\(ops) hand \(crossing.count) tensors to the rest; a stage must end at one tensor")
        }
        guard external.count == 1, let input = external.first else {
            throw DeployError.patchStage(reason: "ops \(first)..<\(ops) read \(external.count) tensors from before them; a stage must start at one tensor")
        }
        let shape = model.tensors[out].shape
        guard shape.count == 4, grid >= 1, grid <= min(shape[1], shape[2]) else {
            throw DeployError.patchStage(reason: "a \(grid)x\(grid) grid does not fit tensor '\(model.tensors[out].name)' of shape \(shape)")
        }
        self.first = first
        self.ops = ops
        self.input = input
        self.grid = grid
        self.output = out
        let rows = PatchGeometry.split(shape[1], parts: grid), cols = PatchGeometry.split(shape[2], parts: grid)
        var tiles: [[TensorID: PatchRegion]] = []
        for r in rows {
            for c in cols {
                tiles.append(try Self.regions(interpreter, ops: first..<ops, output: out, tile: PatchRegion(rows: r, cols: c)))
            }
        }
        self.tiles = tiles
    }

    /// Back from one tile of `output` through `ops`.
    static func regions(_ ip: Int8Interpreter, ops: Range<Int>, output: TensorID, tile: PatchRegion) throws -> [TensorID: PatchRegion] {
        var need: [TensorID: PatchRegion] = [output: tile]
        func add(_ t: TensorID, _ r: PatchRegion) { need[t] = need[t].map { $0.union(r) } ?? r }
        for n in ops.reversed() {
            guard let r = need[ip.model.ops[n].outputs[0]] else { continue }
            switch ip.prepared[n] {
            case let .conv(o, g, _, _):
                let x = ip.model.tensors[o.input].shape, f = ip.model.tensors[o.filter].shape
                add(o.input, PatchRegion(
                    rows: PatchGeometry.inputSpan(r.rows, input: x[1], kernel: f[1], stride: g.strideH, padBefore: g.padTop),
                    cols: PatchGeometry.inputSpan(r.cols, input: x[2], kernel: f[2], stride: g.strideW, padBefore: g.padLeft)))
            case let .add(o, _), let .mul(o, _):
                guard ip.model.tensors[o.lhs].shape == ip.model.tensors[o.rhs].shape else {
                    throw DeployError.patchStage(reason: "op #\(n) (\(ip.model.ops[n].kind)) broadcasts its operands; it needs whole maps and must come after the stage")
                }
                add(o.lhs, r); add(o.rhs, r)
            case let .logistic(o, _), let .hardSwish(o, _):
                add(o.input, r)
            case let .leakyRelu(o, _):
                add(o.input, r)
            case .fullyConnected, .mean, .averagePool, .softmax:
                throw DeployError.patchStage(reason: "op #\(n) (\(ip.model.ops[n].kind)) needs whole maps and must come after the stage")
            }
        }
        return need
    }
}
