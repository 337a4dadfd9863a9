import TinyForgeHardware
import TinyForgeSpec

/// Where a budget violation binds: a stage, the stem or the head.
public enum RepairPlace: Hashable, Sendable, CustomStringConvertible {
    case stage(Int), stem, head
    public var description: String {
        switch self {
        case .stage(let i): return "stages[\(i)]"
        case .stem: return "stem"
        case .head: return "head"
        }
    }
}

extension SpecRepair {
    /// The places the cost report names, per violated constraint in the order SRAM, flash, MACs
    /// (duplicates removed): SRAM → the peak step's op and the producers of its inputs; MACs →
    /// the place with the most MACs; flash → the place with the most weights.
    public func bindingPlaces(_ r: CostReport) -> [RepairPlace] {
        func place(_ op: PlanOp) -> RepairPlace {
            if let s = op.stage { return .stage(s) }
            return op.opRole.isStem ? .stem : .head
        }
        func heaviest(_ value: (PlanOp) -> Int) -> RepairPlace? {
            var sum: [RepairPlace: Int] = [:], order: [RepairPlace] = []
            for op in r.plan.ops {
                let p = place(op)
                if sum[p] == nil { order.append(p) }
                sum[p, default: 0] += value(op)
            }
            return order.max { sum[$0]! < sum[$1]! || (sum[$0]! == sum[$1]! && order.firstIndex(of: $0)! > order.firstIndex(of: $1)!) }
        }
        var out: [RepairPlace] = []
        func add(_ p: RepairPlace?) { if let p, !out.contains(p) { out.append(p) } }
        for v in r.violations where v.kind == .sram {
            let op = r.plan.ops[r.memory.steps[r.memory.peakStep].op]
            add(place(op))
            for t in op.inputs { let prod = r.plan.tensors[t].producer; if prod >= 0, prod < r.plan.ops.count { add(place(r.plan.ops[prod])) } }
        }
        for v in r.violations where v.kind == .flash { add(heaviest(\.weightCount)) }
        for v in r.violations where v.kind == .macs { add(heaviest(\.macs)) }
        return out
    }

    /// Every single shrinking move at the binding places, in a fixed order.
    func moves(_ spec: ArchitectureSpec, report: CostReport) -> [(ArchitectureSpec, RepairEdit)] {
        let spatial = report.violations.contains { $0.kind == .sram || $0.kind == .macs }
        var out: [(ArchitectureSpec, RepairEdit)] = []
        func lower<T: Comparable>(_ v: T, _ allowed: [T]) -> T? { allowed.filter { $0 < v }.max() }
        for place in bindingPlaces(report) {
            switch place {
            case .stage(let i) where i < spec.stages.count:
                let st = spec.stages[i], c = space.choices(forStage: i), p = "stages[\(i)]"
                func move(_ field: String, _ from: String, _ to: String, _ change: (inout StageSpec) -> Void) {
                    var s = spec
                    change(&s.stages[i])
                    out.append((s, RepairEdit(path: "\(p).\(field)", from: from, to: to)))
                }
                if let v = lower(st.outChannels, c.outChannels) { move("out_channels", "\(st.outChannels)", "\(v)") { $0.outChannels = v } }
                if let v = lower(st.repeats, c.repeats) { move("repeats", "\(st.repeats)", "\(v)") { $0.repeats = v } }
                if spatial, st.stride == 1, c.stride.contains(2) { move("stride", "1", "2") { $0.stride = 2 } }
                if let v = lower(st.kernel, c.kernel) { move("kernel", "\(st.kernel)", "\(v)") { $0.kernel = v } }
                if st.usesExpansion, let v = lower(st.expansion, c.expansion) { move("expansion", "\(st.expansion)", "\(v)") { $0.expansion = v } }
                if st.seRatio > 0, c.seRatio.contains(0) {
                    move("se_ratio", repairNumber(st.seRatio), "0") { $0.seRatio = 0 }
                }
            case .stem:
                guard let stem = spec.stem, let c = space.stem else { continue }
                if let v = lower(stem.outChannels, c.outChannels) {
                    var s = spec; s.stem!.outChannels = v
                    out.append((s, RepairEdit(path: "stem.out_channels", from: "\(stem.outChannels)", to: "\(v)")))
                }
                if spatial, stem.stride == 1, c.stride.contains(2) {
                    var s = spec; s.stem!.stride = 2
                    out.append((s, RepairEdit(path: "stem.stride", from: "1", to: "2")))
                }
            case .head:
                if let v = lower(spec.head.convChannels, space.headConvChannels) {
                    var s = spec; s.head.convChannels = v
                    out.append((s, RepairEdit(path: "head.conv_channels", from: "\(spec.head.convChannels)", to: "\(v)")))
                }
            case .stage: continue
            }
        }
        return out
    }

    /// Every out-of-space value moved to the nearest allowed one (see the type's comment).
    public func snap(_ spec: ArchitectureSpec) -> (ArchitectureSpec, [RepairEdit]) {
        var s = spec, edits: [RepairEdit] = []
        func nearest(_ v: Int, _ allowed: [Int]) -> Int { allowed.min { (abs($0 - v), $0) < (abs($1 - v), $1) }! }
        func nearest(_ v: Double, _ allowed: [Double]) -> Double { allowed.min { (abs($0 - v), $0) < (abs($1 - v), $1) }! }
        func fix<T: Equatable>(_ path: String, _ value: inout T, _ to: T, _ show: (T) -> String) {
            guard value != to else { return }
            edits.append(RepairEdit(path: path, from: show(value), to: show(to))); value = to
        }
        let num: (Int) -> String = { String($0) }
        if !space.resolutions.isEmpty, s.input.height != s.input.width || !space.resolutions.contains(s.input.height) {
            let r = nearest(s.input.height, space.resolutions)
            fix("input.height", &s.input.height, r, num); fix("input.width", &s.input.width, r, num)
        }
        fix("input.channels", &s.input.channels, space.inputChannels, num)
        if !space.numStages.isEmpty, !space.numStages.contains(s.stages.count), !s.stages.isEmpty {
            // Too many: drop the last stages; too few: repeat the last one at stride 1.
            let n = nearest(s.stages.count, space.numStages)
            edits.append(RepairEdit(path: "stages", from: "\(s.stages.count) items", to: "\(n) items"))
            if s.stages.count > n { s.stages.removeLast(s.stages.count - n) }
            while s.stages.count < n { var copy = s.stages.last!; copy.stride = 1; s.stages.append(copy) }
        }
        switch (space.stem, s.stem) {
        case (nil, .some): edits.append(RepairEdit(path: "stem", from: "present", to: "none")); s.stem = nil
        case (.some(let c), nil):
            s.stem = StemSpec(outChannels: c.outChannels[0], kernel: c.kernel[0], stride: c.stride[0], activation: c.activation[0])
            edits.append(RepairEdit(path: "stem", from: "none", to: "added"))
        case (.some(let c), .some(var st)):
            fix("stem.out_channels", &st.outChannels, nearest(st.outChannels, c.outChannels), num)
            fix("stem.kernel", &st.kernel, nearest(st.kernel, c.kernel), num)
            fix("stem.stride", &st.stride, nearest(st.stride, c.stride), num)
            fix("stem.activation", &st.activation, c.activation.contains(st.activation) ? st.activation : c.activation[0]) { $0.rawValue }
            s.stem = st
        case (nil, nil): break
        }
        for i in s.stages.indices { snapStage(&s.stages[i], index: i, edits: &edits) }
        fix("head.conv_channels", &s.head.convChannels, nearest(s.head.convChannels, space.headConvChannels), num)
        fix("conv_bias", &s.convBias, false) { "\($0)" }
        return (s, edits)
    }

    func snapStage(_ st: inout StageSpec, index i: Int, edits: inout [RepairEdit]) {
        let c = space.choices(forStage: i), p = "stages[\(i)]"
        func nearest(_ v: Int, _ allowed: [Int]) -> Int { allowed.min { (abs($0 - v), $0) < (abs($1 - v), $1) }! }
        func fix<T: Equatable>(_ field: String, _ value: inout T, _ to: T, _ show: (T) -> String) {
            guard value != to else { return }
            edits.append(RepairEdit(path: "\(p).\(field)", from: show(value), to: show(to))); value = to
        }
        let num: (Int) -> String = { String($0) }
        fix("block", &st.block, c.block.contains(st.block) ? st.block : c.block[0]) { $0.rawValue }
        fix("repeats", &st.repeats, nearest(st.repeats, c.repeats), num)
        fix("out_channels", &st.outChannels, nearest(st.outChannels, c.outChannels), num)
        fix("kernel", &st.kernel, nearest(st.kernel, c.kernel), num)
        fix("stride", &st.stride, nearest(st.stride, c.stride), num)
        if st.usesExpansion { fix("expansion", &st.expansion, nearest(st.expansion, c.expansion), num) }
        let se = (st.block == .conv || st.block == .basic) ? 0 : c.seRatio.min { (abs($0 - st.seRatio), $0) < (abs($1 - st.seRatio), $1) }!
        fix("se_ratio", &st.seRatio, se) { repairNumber($0) }
        fix("activation", &st.activation, c.activation.contains(st.activation) ? st.activation : c.activation[0]) { $0.rawValue }
        let skip = c.skip.contains(st.skip) ? st.skip : (c.skip.contains(.none) ? .none : c.skip[0])
        fix("skip", &st.skip, skip) { $0.rawValue }
        if st.postActivation != nil && st.postActivation != (st.block == .basic) {
            edits.append(RepairEdit(path: "\(p).post_activation", from: "\(st.postActivation!)", to: "default")); st.postActivation = nil
        }
        if !st.shortcutBatchNorm { edits.append(RepairEdit(path: "\(p).shortcut_bn", from: "false", to: "true")); st.shortcutBatchNorm = true }
    }
}

/// 0.25 → "0.25", 2.0 → "2" (as the JSON shows numbers).
func repairNumber(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)" }
