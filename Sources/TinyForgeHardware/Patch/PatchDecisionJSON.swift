import TinyForgeSpec

extension PatchDecision {
    /// The `patch` object of `tinyforge profile --json`: both plans side by side. The plan's
    /// top-level `grid` / `split` fields describe its first stage; `stages` lists every stage.
    public func jsonValue(_ lp: LayerPlan) -> JSONValue {
        func num(_ x: Int) -> JSONValue { .number(Double(x)) }
        var o: [String: JSONValue] = [:]
        o["setting"] = .string(setting.description)
        o["max_overhead"] = .number(maxOverhead)
        o["per_layer_arena_bytes"] = num(perLayerArena)
        o["arena_bytes"] = num(arenaBytes)
        o["candidates"] = num(candidates)
        o["reason"] = reason.map { .string($0) } ?? .null
        guard let p = plan else { o["plan"] = .null; return .object(o) }
        var j: [String: JSONValue] = [:]
        j["grid"] = num(p.stage.grid)
        j["split"] = .string(p.stage.split.description)
        j["split_block"] = num(p.stage.split.block)
        j["split_op"] = num(p.stage.splitOp)
        j["split_tensor"] = .array(lp.tensors[p.stage.output].shape.map(num))
        j["arena_bytes"] = num(p.arenaBytes)
        j["stage_peak_live_bytes"] = num(p.stagePeakLive)
        j["rest_peak_live_bytes"] = num(p.restPeakLive)
        j["stage_macs"] = num(p.stageMACs)
        j["patched_stage_macs"] = num(p.patchedStageMACs)
        j["extra_macs"] = num(p.extraMACs)
        j["mac_overhead"] = .number((p.macOverhead * 10_000).rounded() / 10_000)
        let buffers: [JSONValue] = p.bufferBytes.sorted { $0.key < $1.key }.map { (k: Int, v: Int) -> JSONValue in
            let b: [String: JSONValue] = ["tensor": num(k), "bytes": num(v), "shape": .array(lp.tensors[k].shape.map(num))]
            return .object(b)
        }
        j["tile_buffers"] = .array(buffers)
        j["setting"] = .string(p.setting)
        j["stages"] = .array(p.stages.indices.map { k in
            let st = p.stages[k]
            var o: [String: JSONValue] = [:]
            o["setting"] = .string(st.setting)
            o["grid"] = num(st.grid)
            o["from"] = st.start.map { .string($0.description) } ?? .null
            o["start_op"] = num(st.startOp)
            o["input_tensor"] = .array(lp.tensors[st.input].shape.map(num))
            o["split"] = .string(st.split.description)
            o["split_op"] = num(st.splitOp)
            o["split_tensor"] = .array(lp.tensors[st.output].shape.map(num))
            o["peak_live_bytes"] = num(p.stagePeakLive(k))
            o["extra_macs"] = num(st.extraMACs(lp))
            return .object(o)
        })
        o["plan"] = .object(j)
        return .object(o)
    }
}
