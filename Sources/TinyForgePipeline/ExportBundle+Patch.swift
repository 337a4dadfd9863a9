import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec

/// What an export states about `--patch`: the decision (both arenas, the split, the grid, the
/// extra MACs), so a reader of manifest.json or README.md knows which schedule the library runs.
extension ExportBundle {
    /// `manifest.json` with `patch` (the `profile --json` object) and `memory.arena_bytes` set
    /// to the arena the library links (the patch arena when a plan was chosen).
    static func patchManifest(_ o: [String: JSONValue], decision d: PatchDecision, generator gen: CCodeGenerator,
                              plan: LayerPlan) -> [String: JSONValue] {
        var o = o
        var p = d.jsonValue(plan)
        if case var .object(po) = p {
            po["executed_by"] = .string(d.plan == nil ? "layer by layer (no plan chosen)" : (d.plan?.stages.count ?? 1) == 1 ? "model.c: the patch stage runs tile by tile, the rest layer by layer" : "model.c: each patch stage runs tile by tile, the ops around them layer by layer")
            p = .object(po)
        }
        o["patch"] = p
        if case var .object(mem) = o["memory"] {
            mem["arena_bytes"] = .number(Double(gen.arenaBytes))
            mem["per_layer_arena_bytes"] = .number(Double(gen.memory.arenaBytes))
            mem["arena_lower_bound_bytes"] = .number(Double(gen.patch?.lowerBound ?? gen.memory.lowerBound))
            if gen.patch != nil { mem["arena_runtime"] = "tinyforge C library, patch-based stage then layer by layer (the patch plan's arena)" }
            o["memory"] = .object(mem)
        }
        return o
    }

    /// A README section on the patch plan.
    static func patchReadme(_ d: PatchDecision, plan lp: LayerPlan) -> String {
        guard let p = d.plan else {
            return "\n## Patch-based inference (--patch \(d.setting))\n\nLayer by layer: \(d.reason ?? "no plan").\n"
        }
        let t = lp.tensors[p.stage.output]
        let what = p.stages.count == 1 && p.stage.startOp == 0 ? """
        model.c runs the network up to \(p.stage.split.phrase) (a \(t.height)×\(t.width)×\(t.channels) tensor) tile by
        tile on a \(p.stage.grid)×\(p.stage.grid) grid (\(p.stage.tiles.count) tiles, halos recomputed), then the rest layer by layer.
        """ : "model.c runs \(p.stages.count) patch stage(s) (`\(p.setting)`), each tile by tile (halos recomputed), and the ops around them layer by layer:\n\n"
            + p.stages.map { st in
                let i = lp.tensors[st.input], o = lp.tensors[st.output]
                return "- `\(st.setting)`: from \(st.start?.startPhrase ?? "the network input") (\(i.height)×\(i.width)×\(i.channels) in full) up to \(st.split.phrase) (\(o.height)×\(o.width)×\(o.channels)), \(st.grid)×\(st.grid) grid"
            }.joined(separator: "\n")
        return """

        ## Patch-based inference (--patch \(d.setting))

        \(what)

        | | bytes / MACs |
        |---|---|
        | arena, patched (`TF_MODEL_ARENA_BYTES`) | \(p.arenaBytes) |
        | arena, layer by layer (`TF_MODEL_PER_LAYER_ARENA_BYTES`) | \(d.perLayerArena) |
        | extra MACs (recomputed halos) | \(p.extraMACs) (\(String(format: "%.2f", p.macOverhead * 100)) % of \(p.networkMACs)) |

        """
    }
}
