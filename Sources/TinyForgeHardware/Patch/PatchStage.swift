/// A patch stage of a network: a run of ops executed tile by tile over a p×p grid of the
/// tensor it ends at (the split block's input, or an SE's input), so only one tile of each
/// intermediate tensor is live (MCUNetV2's patch-based inference). The first stage starts at
/// the network input; a later one (`start`) at a block's input or right after an SE's scale,
/// reading that whole map. Holds, for every tile, the exact pixel rectangle each stage tensor
/// must provide: the tile itself for the stage output, and back through every conv /
/// depthwise the rows and columns its deployed window reads (padding pixels are skipped, as
/// the int8 kernels skip them), the bounding box where two readers need different parts.
public struct PatchStage: Sendable, Equatable {
    /// Where the stage starts; nil = at the network input (op 0).
    public var start: PatchSplit?
    /// The stage's first plan op.
    public var startOp: Int
    /// The tensor the stage reads in full (the network input, a block input or an SE output).
    public var input: Int
    /// Where the stage ends.
    public var split: PatchSplit
    /// The first plan op after the stage: the stage is ops `startOp..<splitOp`.
    public var splitOp: Int
    /// Tiles per side.
    public var grid: Int
    /// The tensor the stage writes in full (the split block's input).
    public var output: Int
    /// `tiles[t][tensor]`: the region of each stage tensor tile `t` computes (intermediates,
    /// output) or reads (the stage input), tiles in row-major order.
    public var tiles: [[Int: PatchRegion]]

    public var ops: Range<Int> { startOp..<splitOp }

    /// The `--patch` form of this stage: `4x4@3`, `2x2@1.se..3`.
    public var setting: String { "\(grid)x\(grid)@" + (start.map { "\($0).." } ?? "") + split.description }

    /// Cuts `plan` from `from` (nil: the network input) to `split` with a `grid`×`grid` tiling.
    /// - Throws: `PatchPlanError` when the stage would be empty, contains an op that needs
    ///   the whole map, shares a tensor with the ops outside it besides its input and output,
    ///   or the split tensor is smaller than the grid.
    public init(plan: LayerPlan, groups: [BlockGroup], from: PatchSplit? = nil, split at: PatchSplit, grid: Int) throws {
        let split = try at.op(plan, groups: groups)
        let first = try from?.startOp(plan, groups: groups) ?? 0
        if let f = from, first >= split { throw PatchPlanError.emptyRange(from: f.description, to: at.description) }
        guard split > 0 else { throw PatchPlanError.emptyStage }
        for op in plan.ops[first..<split] where ![.conv2d, .depthwiseConv2d, .add].contains(op.kind) {
            let block = groups.firstIndex { $0.ops.contains(op.index) } ?? at.block
            throw PatchPlanError.wholeMapOp(split: at.description, block: block, role: op.role)
        }
        let input = plan.ops[first].inputs[0], out = plan.ops[split].inputs[0]
        // Only the split tensor may cross the end (a block reads its own input only, but an
        // identity shortcut around an SE split reads the block input after the split), and
        // only the stage input the start (a shortcut around an SE start reads the block input).
        for tensor in plan.tensors where tensor.id != out && tensor.producer < split {
            if let reader = tensor.consumers.first(where: { $0 >= split }) {
                throw PatchPlanError.sharedInput(split: at.description, role: plan.ops[reader].role)
            }
        }
        for tensor in plan.tensors where tensor.id != input && tensor.producer < first {
            if let reader = tensor.consumers.first(where: { $0 >= first && $0 < split }) {
                throw PatchPlanError.sharedStart(from: from?.description ?? "", role: plan.ops[reader].role)
            }
        }
        let t = plan.tensors[out]
        guard grid >= 1, grid <= min(t.height, t.width) else {
            throw PatchPlanError.gridTooFine(grid: grid, height: t.height, width: t.width)
        }
        self.start = from
        self.startOp = first
        self.input = input
        self.split = at
        self.splitOp = split
        self.grid = grid
        self.output = out
        let rows = PatchGeometry.split(t.height, parts: grid), cols = PatchGeometry.split(t.width, parts: grid)
        tiles = rows.flatMap { r in cols.map { c in Self.regions(plan, ops: first..<split, output: out, tile: PatchRegion(rows: r, cols: c)) } }
    }

    /// Walks the stage backwards from one output tile: each op's output region gives the
    /// region of each of its inputs (the same one for an add, the window for a conv).
    static func regions(_ plan: LayerPlan, ops: Range<Int>, output: Int, tile: PatchRegion) -> [Int: PatchRegion] {
        var need: [Int: PatchRegion] = [output: tile]
        for op in plan.ops[ops].reversed() {
            guard let r = need[op.output] else { continue }
            for i in op.inputs {
                let x = plan.tensors[i]
                let inR = op.kind == .add ? r : PatchRegion(
                    rows: PatchGeometry.convInputSpan(r.rows, input: x.height, kernel: op.kernel, stride: op.stride),
                    cols: PatchGeometry.convInputSpan(r.cols, input: x.width, kernel: op.kernel, stride: op.stride))
                need[i] = need[i].map { $0.union(inR) } ?? inR
            }
        }
        return need
    }

    /// MACs the stage executes tile by tile: every conv / depthwise computes its output
    /// region of each tile at the plan's k×k MACs per output pixel (the zero tap of a widened
    /// window is not a MAC of the network).
    public func patchedMACs(_ plan: LayerPlan) -> Int {
        var total = 0
        for op in plan.ops[ops] where op.weightCount > 0 {
            let perPixel = op.macs / max(1, plan.tensors[op.output].height * plan.tensors[op.output].width)
            for tile in tiles { total += (tile[op.output]?.area ?? 0) * perPixel }
        }
        return total
    }

    /// MACs recomputed in this stage's halos (`patchedMACs` − the stage ops' per-layer MACs).
    public func extraMACs(_ plan: LayerPlan) -> Int {
        patchedMACs(plan) - plan.ops[ops].reduce(0) { $0 + $1.macs }
    }

    /// The largest region of `tensor` over all tiles, in bytes (int8, all channels): the tile
    /// buffer that tensor needs.
    public func tileBytes(_ plan: LayerPlan, tensor: Int) -> Int {
        (tiles.map { $0[tensor]?.area ?? 0 }.max() ?? 0) * plan.tensors[tensor].channels
    }
}
