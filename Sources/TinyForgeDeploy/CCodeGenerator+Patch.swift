import TinyForgeHardware

/// The patch stages of a patched library: per stage one loop over its tiles, each running the
/// stage's fused steps on the tile's rectangles (`tf_patch_*` in kernels.c) — the same steps, the same
/// parameters as layer by layer, in the buffers `CPatchLayout` placed. The tiles' regions are
/// a constant table (the `Int8PatchStage` arithmetic, computed once here, not in C).
extension CCodeGenerator {
    /// `#define`s stating the patch plan in model.h (empty when per-layer).
    var patchMacros: String {
        guard let p = patch else { return "" }
        return """

        /* Patch plan: \(CSource.comment(p.summary(perLayerArena: memory.arenaBytes))). */
        #define TF_MODEL_PATCH_GRID \(p.stage.grid)
        #define TF_MODEL_PATCH_TILES \(p.stage.tiles.count)\(p.stages.count > 1 ? "\n#define TF_MODEL_PATCH_STAGES \(p.stages.count)" : "")
        #define TF_MODEL_PER_LAYER_ARENA_BYTES \(memory.arenaBytes)
        """
    }

    /// Declarations (region table) and the tile loop of stage `k`'s steps (the first stage's
    /// table is `tf_patch_regions`, a later one's `tf_patch_regions_k`).
    func patchLoop(_ p: CPatchLayout, stage k: Int, decls: inout [String], weights w: inout WeightsEmitter) -> [String] {
        let steps = memory.steps[p.stageSteps[k]], stage = p.stages[k], table = k == 0 ? "tf_patch_regions" : "tf_patch_regions_\(k)"
        var slots: [TensorID] = []
        for s in steps { for id in s.inputs + [s.output] where !slots.contains(id) { slots.append(id) } }
        let rows = stage.tiles.map { tile in
            "    { " + slots.map { Self.region(tile[$0]!) }.joined(separator: ", ") + " }"
        }
        decls.append("/* Tile regions (rows r0..r1, columns c0..c1) of the stage's tensors: \(slots.map { "'\(CSource.comment(model.tensors[$0].name))'" }.joined(separator: ", ")). */")
        decls.append("static const tf_region_t \(table)[\(rows.count)][\(slots.count)] = {\n" + rows.joined(separator: ",\n") + "\n};")
        var full: [TensorID] = []
        for id in slots where id == stage.output || id == stage.input {
            full.append(id)
            let decl = "static const tf_region_t tf_patch_full\(id) = \(Self.region(p.bufferRegion(model, id, stage: k, tile: 0)));"
            if !decls.contains(decl) { decls.append(decl) } // adjacent stages share a boundary map
        }
        func buffer(_ id: TensorID) -> String {
            full.contains(id) ? "&tf_patch_full\(id)" : "&R[\(slots.firstIndex(of: id)!)]"
        }
        let what = p.stages.count == 1 ? p.summary(perLayerArena: memory.arenaBytes) : "stage \(k + 1) of \(p.stages.count), \(p.plan.stages[k].setting)"
        var body = ["    /* patch stage: \(CSource.comment(what)) */",
                    "    for (int tile = 0; tile < \(rows.count); ++tile) {",
                    "        const tf_region_t *R = \(table)[tile];"]
        for (i, s) in zip(steps.indices, steps) {
            let y = s.output, out = "&R[\(slots.firstIndex(of: y)!)]", c = model.tensors[y].shape.last!
            let dst = "\(ptr(y, &w)), \(buffer(y)), \(out)"
            let call: String
            switch interpreter.prepared[s.ops[0]] {
            case let .conv(o, _, _, depthwise):
                let f = model.tensors[o.filter].shape
                let bias = o.bias.map { w.constant($0) } ?? "0"
                call = "tf_patch_conv(\(ptr(o.input, &w)), \(buffer(o.input)), \(model.tensors[o.input].shape.last!), \(w.constant(o.filter)), \(f[1]), \(f[2]), \(bias), \(dst), \(c), &g\(i), &rq\(i), &ep\(i), \(depthwise ? 1 : 0));"
            case let .add(o, _):
                call = "tf_patch_add(\(ptr(o.lhs, &w)), \(buffer(o.lhs)), \(ptr(o.rhs, &w)), \(buffer(o.rhs)), \(dst), \(c), &p\(i));"
            case let .mul(o, _):
                call = "tf_patch_mul(\(ptr(o.lhs, &w)), \(buffer(o.lhs)), \(ptr(o.rhs, &w)), \(buffer(o.rhs)), \(dst), \(c), &p\(i));"
            case let .logistic(o, _):
                call = "tf_patch_map(\(ptr(o.input, &w)), \(buffer(o.input)), \(dst), \(c), 0, &p\(i));"
            case let .hardSwish(o, _):
                call = "tf_patch_map(\(ptr(o.input, &w)), \(buffer(o.input)), \(dst), \(c), 1, &p\(i));"
            case let .leakyRelu(o, _):
                call = "tf_patch_map(\(ptr(o.input, &w)), \(buffer(o.input)), \(dst), \(c), 2, &p\(i));"
            case .fullyConnected, .mean, .averagePool, .softmax:
                preconditionFailure("CPatchLayout admits local ops only (Int8PatchStage)")
            }
            body.append("        /* step \(i) on the tile: \(CSource.comment(model.ops[s.ops[0]].kind + (s.epilogue.name.isEmpty ? "" : "+" + s.epilogue.name))) -> '\(CSource.comment(model.tensors[y].name))' */")
            body.append("        " + call)
        }
        body.append("    }")
        return body
    }

    static func region(_ r: PatchRegion) -> String { "{ \(r.rows.lo), \(r.rows.hi), \(r.cols.lo), \(r.cols.hi) }" }
}
