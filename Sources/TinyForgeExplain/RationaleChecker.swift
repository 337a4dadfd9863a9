import Foundation
import TinyForgeSpec
import TinyForgeHardware

/// Fact-checks a proposer's rationale against the spec it came with (and, when given, the
/// candidate's measured costs and its comparison with the parent). Each claim gets true /
/// false / unverifiable with the spec fields or numbers that decide it.
public struct RationaleChecker: Sendable {
    public var spec: ArchitectureSpec
    /// Measured numbers for metric claims ("under 100M MACs", "reduces peak SRAM"); without
    /// it those claims are unverifiable.
    public var explanation: CandidateExplanation?

    public init(spec: ArchitectureSpec, explanation: CandidateExplanation? = nil) {
        self.spec = spec
        self.explanation = explanation
    }

    public func claims(in text: String) -> [RationaleClaim] {
        ClaimParser(stageCount: spec.stages.count, blocks: spec.stages.map(\.block)).claims(in: text)
    }

    public func check(_ text: String) -> [ClaimCheck] { claims(in: text).map(check) }

    public func check(_ c: RationaleClaim) -> ClaimCheck {
        let (verdict, evidence) = verify(c)
        return ClaimCheck(claim: c, verdict: verdict, evidence: evidence)
    }

    typealias Result = (ClaimCheck.Verdict, String)

    var stages: [StageSpec] { spec.stages }

    func verify(_ c: RationaleClaim) -> Result {
        if let idx = c.scope.stages, let bad = idx.first(where: { $0 < 0 || $0 >= stages.count }) {
            return (.false, "\"\(c.scope.label)\" does not exist: the network has \(stages.count) stages (stages[0]…stages[\(stages.count - 1)]); asked for stages[\(bad)]")
        }
        if let idx = c.scope.stages, idx.isEmpty {
            return (.unverifiable, "\"\(c.scope.label)\" names no stage of this network")
        }
        switch c.property {
        case .kernel(let k):
            return perStage(c, { stages[$0].kernel == k }, { "stages[\($0)].kernel = \(stages[$0].kernel)" })
        case .pointwise:
            return perStage(c, { [.dsconv, .mbconv, .fusedMBConv].contains(stages[$0].block) || stages[$0].kernel == 1 },
                            { "stages[\($0)].block = \(stages[$0].block.rawValue), kernel \(stages[$0].kernel)" })
        case .expansion(let e):
            return perStage(c, { stages[$0].usesExpansion && stages[$0].expansion == e }, { i in
                stages[i].usesExpansion ? "stages[\(i)].expansion = \(stages[i].expansion)"
                    : "stages[\(i)].block = \(stages[i].block.rawValue) (no expansion)" })
        case .squeezeExcite:
            return perStage(c, hasSE, seText)
        case .seRatio(let r):
            return perStage(c, { hasSE($0) && abs(stages[$0].seRatio - r) < 1e-9 }, seText)
        case .shortcut:
            return perStage(c, { shortcutLayers($0).with > 0 }, shortcutText)
        case .activation(let a):
            return perStage(c, { stages[$0].activation == a }, { "stages[\($0)].activation = \(stages[$0].activation.rawValue)" })
        case .downsampling:
            return perStage(c, { stages[$0].stride == 2 }, { "stages[\($0)].stride = \(stages[$0].stride)" })
        case .stride(let s):
            return perStage(c, { stages[$0].stride == s }, { "stages[\($0)].stride = \(stages[$0].stride)" })
        case .block(let kinds, let name):
            return perStage(c, { kinds.contains(stages[$0].block) }, { "stages[\($0)].block = \(stages[$0].block.rawValue)" }, what: name)
        case .channels(let ch):
            return channels(c, ch)
        case .downsampleCount(let n):
            var where2 = stages.indices.filter { stages[$0].stride == 2 }.map { "stages[\($0)]" }
            if spec.stem?.stride == 2 { where2.insert("stem", at: 0) }
            return (verdictOf(where2.count == n, c), "\(where2.count) stride-2 layers: \(where2.joined(separator: ", "))")
        case .stageCount(let n):
            return (verdictOf(stages.count == n, c), "the spec has \(stages.count) stages")
        case .layerCount(let n):
            return layerCount(c, n)
        case .channelRange(let a, let b):
            let first = stages.first?.outChannels ?? 0, last = stages.last?.outChannels ?? 0
            let ok = (first == a || spec.stem?.outChannels == a) && (last == b || spec.head.convChannels == b)
            return (verdictOf(ok, c), "stages[0].out_channels = \(first), stages[\(stages.count - 1)].out_channels = \(last)"
                + (spec.stem.map { ", stem.out_channels = \($0.outChannels)" } ?? ""))
        case .relative(let field, let larger):
            return relative(c, field, larger)
        case .effect(let metric, let increase):
            return effect(c, metric, increase)
        case .metricValue(let metric, let cmp, let value):
            return metricValue(c, metric, cmp, value)
        case .fitsBudget:
            guard let e = explanation else { return (.unverifiable, "no cost report was given to check the budget against") }
            return (verdictOf(e.fits, c), e.usage.map(\.description).joined(separator: "; "))
        }
    }

    /// Positive claims need every named stage to hold (the whole network: at least one);
    /// negated claims need no stage in scope to hold.
    func perStage(_ c: RationaleClaim, _ holds: (Int) -> Bool, _ show: (Int) -> String, what: String? = nil) -> Result {
        let idx = c.scope.stages ?? Array(stages.indices)
        let yes = idx.filter(holds), no = idx.filter { !holds($0) }
        let network = c.scope.stages == nil
        if c.negated {
            if yes.isEmpty { return (.true, "none has it: " + idx.map(show).joined(separator: ", ")) }
            return (.false, yes.map(show).joined(separator: ", "))
        }
        if network {
            if yes.isEmpty { return (.false, "no stage has it" + (what.map { " (\($0))" } ?? "") + ": " + idx.map(show).joined(separator: ", ")) }
            return (.true, yes.map(show).joined(separator: ", "))
        }
        if no.isEmpty { return (.true, yes.map(show).joined(separator: ", ")) }
        return (.false, no.map(show).joined(separator: ", "))
    }

    func verdictOf(_ holds: Bool, _ c: RationaleClaim) -> ClaimCheck.Verdict { holds != c.negated ? .true : .false }

    func hasSE(_ i: Int) -> Bool { stages[i].seRatio > 0 && stages[i].block != .conv && stages[i].block != .basic }
    func seText(_ i: Int) -> String {
        let s = stages[i]
        if s.seRatio > 0 && !hasSE(i) { return "stages[\(i)].se_ratio = \(formatRatio(s.seRatio)) but \(s.block.rawValue) blocks have no SE" }
        return "stages[\(i)].se_ratio = \(formatRatio(s.seRatio))"
    }

    func shortcutLayers(_ i: Int) -> (with: Int, of: Int) {
        let ls = spec.expandedLayers().filter { $0.stageIndex == i }
        return (ls.filter { $0.shortcut != .none }.count, ls.count)
    }

    func shortcutText(_ i: Int) -> String {
        let (w, n) = shortcutLayers(i)
        let s = stages[i]
        if s.skip != .none && w == 0 {
            return "stages[\(i)].skip = \(s.skip.rawValue) but no layer gets a shortcut (stride \(s.stride), \(s.repeats) layer\(s.repeats == 1 ? "" : "s"))"
        }
        return "stages[\(i)].skip = \(s.skip.rawValue)" + (w > 0 && w < n ? " (\(w) of \(n) layers)" : "")
    }

    func channels(_ c: RationaleClaim, _ ch: Int) -> Result {
        let layers = spec.expandedLayers()
        if c.scope.stages != nil {
            return perStage(c, { i in stages[i].outChannels == ch || layers.contains { $0.stageIndex == i && $0.midChannels == ch } },
                            { "stages[\($0)].out_channels = \(stages[$0].outChannels)" })
        }
        var found: [String] = stages.indices.filter { stages[$0].outChannels == ch }.map { "stages[\($0)].out_channels" }
        if spec.stem?.outChannels == ch { found.insert("stem.out_channels", at: 0) }
        if spec.head.convChannels == ch { found.append("head.conv_channels") }
        if found.isEmpty, let l = layers.first(where: { $0.midChannels == ch }) {
            found.append("expanded width of stages[\(l.stageIndex)].layers[\(l.layerIndex)]")
        }
        if found.isEmpty {
            return (c.negated ? .true : .false, "no layer has \(ch) channels; out_channels by stage: " + stages.map { String($0.outChannels) }.joined(separator: ", "))
        }
        return (c.negated ? .false : .true, "\(ch) channels at " + found.joined(separator: ", "))
    }

    func layerCount(_ c: RationaleClaim, _ n: Int) -> Result {
        let total = stages.reduce(0) { $0 + $1.repeats }
        guard let idx = c.scope.stages else {
            let extra = (spec.stem == nil ? 0 : 1) + (spec.head.convChannels > 0 ? 1 : 0)
            let ok = total == n || (extra > 0 && total + extra == n)
            return (verdictOf(ok, c), "stage layers: " + stages.map { String($0.repeats) }.joined(separator: "+") + " = \(total)"
                + (extra > 0 ? " (+\(extra) stem/head conv)" : ""))
        }
        let reps = idx.map { stages[$0].repeats }
        let ok = reps.allSatisfy { $0 == n } || reps.reduce(0, +) == n
        return (verdictOf(ok, c), idx.map { "stages[\($0)].repeats = \(stages[$0].repeats)" }.joined(separator: ", "))
    }

    func relative(_ c: RationaleClaim, _ field: ClaimProperty.Field, _ larger: Bool) -> Result {
        let n = stages.count
        let late = Array(max(0, n - max(1, (n + 2) / 3))..<n)
        var inScope = c.scope.stages ?? late
        var rest = (0..<n).filter { !inScope.contains($0) }
        func value(_ i: Int) -> Double? {
            switch field {
            case .kernel: return Double(stages[i].kernel)
            case .channels: return Double(stages[i].outChannels)
            case .expansion: return stages[i].usesExpansion ? Double(stages[i].expansion) : nil
            }
        }
        inScope = inScope.filter { value($0) != nil }
        rest = rest.filter { value($0) != nil }
        let listing = "\(field.rawValue) by stage: " + (0..<n).map { value($0).map { String(Int($0)) } ?? "–" }.joined(separator: ", ")
        guard !inScope.isEmpty, !rest.isEmpty else { return (.unverifiable, "nothing to compare against; " + listing) }
        let a = inScope.map { value($0)! }.reduce(0, +) / Double(inScope.count)
        let b = rest.map { value($0)! }.reduce(0, +) / Double(rest.count)
        let ok = larger ? a > b : a < b
        let where_ = c.scope.stages == nil ? "the later stages" : c.scope.label
        return (verdictOf(ok, c), listing + String(format: "; mean %.3g in %@ vs %.3g in the others", a, where_, b))
    }

    func effect(_ c: RationaleClaim, _ m: ClaimMetric, _ increase: Bool) -> Result {
        guard let cmp = explanation?.comparison else {
            return (.unverifiable, "no parent or archive member to compare with")
        }
        let ref = "against \(cmp.relation == .parent ? "parent" : "nearest archive member") \(cmp.referenceHash.prefix(12))"
        let delta: Double, text: String
        switch m {
        case .macs: delta = Double(cmp.deltaMACs); text = "MACs \(signed(cmp.deltaMACs, Units.formatCount))"
        case .params: delta = Double(cmp.deltaParams); text = "params \(signed(cmp.deltaParams, Units.formatCount))"
        case .sram: delta = Double(cmp.deltaPeakSRAM); text = "peak SRAM \(signed(cmp.deltaPeakSRAM, Units.formatBytes))"
        case .flash: delta = Double(cmp.deltaFlash); text = "flash \(signed(cmp.deltaFlash, Units.formatBytes))"
        case .latency: delta = cmp.deltaLatencyMs; text = String(format: "latency %+.2f ms", cmp.deltaLatencyMs)
        case .accuracy:
            guard let d = cmp.deltaAccuracy else { return (.unverifiable, "\(ref): accuracy not measured on both") }
            delta = d; text = String(format: "accuracy %+.2f pt", d * 100)
        }
        let ok = increase ? delta > 0 : delta < 0
        return (verdictOf(ok, c), "\(ref): \(text)")
    }

    func metricValue(_ c: RationaleClaim, _ m: ClaimMetric, _ cmp: ClaimProperty.Comparator, _ v: Double) -> Result {
        guard let e = explanation else { return (.unverifiable, "no cost report was given") }
        let actual: Double, text: String
        switch m {
        case .macs: actual = Double(e.macs); text = "MACs = \(Units.formatCount(e.macs))"
        case .params: actual = Double(e.params); text = "params = \(Units.formatCount(e.params))"
        case .sram: actual = Double(e.peakSRAMBytes); text = "peak SRAM = \(Units.formatBytes(e.peakSRAMBytes))"
        case .flash: actual = Double(e.flashBytes); text = "flash = \(Units.formatBytes(e.flashBytes))"
        case .latency: actual = e.latencyMs; text = String(format: "latency = %.1f ms", e.latencyMs)
        case .accuracy:
            guard let a = e.valAccuracy else { return (.unverifiable, "accuracy not measured") }
            actual = a; text = String(format: "val accuracy = %.2f%%", a * 100)
        }
        let ok: Bool
        switch cmp {
        case .atMost: ok = actual <= v
        case .atLeast: ok = actual >= v
        case .about: ok = abs(actual - v) <= 0.15 * abs(v)
        }
        let claimed = m == .accuracy ? String(format: "%.2f%%", v * 100) : (m == .sram || m == .flash ? Units.formatBytes(Int(v)) : Units.formatCount(Int(v)))
        return (ok ? .true : .false, "\(text) (claimed \(cmp.rawValue) \(claimed)\(cmp == .about ? ", ±15%" : ""))")
    }
}
