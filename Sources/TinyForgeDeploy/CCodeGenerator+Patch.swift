import TinyForgeHardware

/// The patch stage of a patched library: one loop over the tiles, each running the stage's
/// fused steps on the tile's rectangles (`tf_patch_*` in kernels.c) — the same steps, the same
/// parameters as layer by layer, in the buffers `CPatchLayout` placed. The tiles' regions are
/// a constant table (the `Int8PatchStage` arithmetic, computed once here, not in C).
extension CCodeGenerator {
    /// `#define`s stating the patch plan in model.h (empty when per-layer).
    var patchMacros: String {
        guard let p = patch else { return "" }
        return """

        /* Patch plan: \(CSource.comment(p.summary(perLayerArena: memory.arenaBytes))). */
        #define TF_MODEL_PATCH_GRID \(p.stage.grid)
        #define TF_MODEL_PATCH_TILES \(p.stage.tiles.count)
        #define TF_MODEL_PER_LAYER_ARENA_BYTES \(memory.arenaBytes)
        """
    }

    /// Declarations (region table) and the tile loop of the stage's steps.
    func patchLoop(_ p: CPatchLayout, decls: inout [String], weights w: inout WeightsEmitter) -> [String] {
        let steps = memory.steps[0..<p.stageSteps]
        var slots: [TensorID] = []
        for s in steps { for id in s.inputs + [s.output] where !slots.contains(id) { slots.append(id) } }
        let rows = p.stage.tiles.map { tile in
            "    { " + slots.map { Self.region(tile[$0]!) }.joined(separator: ", ") + " }"
        }
        decls.append("/* Tile regions (rows r0..r1, columns c0..c1) of the stage's tensors: \(slots.map { "'\(CSource.comment(model.tensors[$0].name))'" }.joined(separator: ", ")). */")
        decls.append("static const tf_region_t tf_patch_regions[\(rows.count)][\(slots.count)] = {\n" + rows.joined(separator: ",\n") + "\n};")
        var full: [TensorID] = []
        for id in slots where id == p.stage.output || model.inputs.contains(id) {
            full.append(id)
            decls.append("static const tf_region_t tf_patch_full\(id) = \(Self.region(p.bufferRegion(model, id, tile: 0)));")
        }
        func buffer(_ id: TensorID) -> String {
            full.contains(id) ? "&tf_patch_full\(id)" : "&R[\(slots.firstIndex(of: id)!)]"
        }
        var body = ["    /* patch stage: \(CSource.comment(p.summary(perLayerArena: memory.arenaBytes))) */",
                    "    for (int tile = 0; tile < \(rows.count); ++tile) {",
                    "        const tf_region_t *R = tf_patch_regions[tile];"]
        for (i, s) in steps.enumerated() {
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
