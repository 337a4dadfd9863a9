import Foundation
import TinyForgeSpec

/// Finds checkable claims in free text. A rule-based reader, not a language model: it knows
/// the words architecture rationales use (kernel sizes, "6x expansion", "no SE", "residual
/// connections", "downsampling in stage 2", "under 100M MACs", ...) and ties each property to
/// the nearest stage reference in its clause ("7x7 kernels in the last stage"). What it does
/// not recognise it leaves out; it never guesses a value.
struct ClaimParser {
    let stageCount: Int
    var blocks: [BlockType] = []

    /// A property hit before scope binding. `category` limits overlap suppression to rivals
    /// ("relu" inside "relu6", "mbconv" inside "fused mbconv").
    struct Hit {
        var match: TextMatch
        var property: ClaimProperty
        var category: String
        var scoped: Bool
    }

    func claims(in text: String) -> [RationaleClaim] {
        splitClauses(text).flatMap { claims(inClause: $0) }
    }

    func claims(inClause clause: String) -> [RationaleClaim] {
        let scopes = ScopeParser(stageCount: stageCount, blocks: blocks).mentions(in: clause)
        var hits: [Hit] = []
        for (pattern, category, scoped, make) in ClaimParser.rules {
            for m in pattern.matches(clause) {
                if scopes.contains(where: { m.start < $0.end && $0.start < m.end }) { continue }
                if hits.contains(where: { $0.category == category && m.start < $0.match.end && $0.match.start < m.end }) { continue }
                guard let p = make(m, clause) else { continue }
                hits.append(Hit(match: m, property: p, category: category, scoped: scoped))
            }
        }
        hits.sort { $0.match.start < $1.match.start }
        var out: [RationaleClaim] = []
        var prevEnd = 0
        for h in hits {
            let scope = h.scoped ? bind(h.match, scopes: scopes, clause: clause) : .network
            let neg = negated(h, clause: clause, after: prevEnd)
            prevEnd = h.match.end
            let claim = RationaleClaim(text: clause, quote: h.match.text, scope: scope, property: h.property, negated: neg)
            if !out.contains(claim) { out.append(claim) }
        }
        return out
    }

    /// A scope right after the property joined by a preposition ("7x7 kernels in the last
    /// stage") wins; else the nearest scope before it ("stage 2 uses SE"); else any later one.
    func bind(_ m: TextMatch, scopes: [ScopeMention], clause: String) -> ClaimScope {
        let ns = clause as NSString
        if let next = scopes.first(where: { $0.start >= m.end }), next.start - m.end <= 40 {
            let gap = ns.substring(with: NSRange(location: m.end, length: next.start - m.end))
            if Pattern(#"\b(?:in|at|for|of|across|within|throughout|from|on)\b"#).firstMatch(gap) != nil,
               Pattern(#"[,;]"#).firstMatch(gap) == nil { return next.scope }
        }
        if let prev = scopes.last(where: { $0.end <= m.start }) { return prev.scope }
        return scopes.first(where: { $0.start >= m.end })?.scope ?? .network
    }

    func negated(_ h: Hit, clause: String, after prevEnd: Int) -> Bool {
        switch h.property {
        case .stageCount, .layerCount, .channelRange, .metricValue, .downsampleCount, .channels: return false
        default: break
        }
        let ns = clause as NSString
        let from = max(prevEnd, h.match.start - 28)
        if from < h.match.start {
            let before = ns.substring(with: NSRange(location: from, length: h.match.start - from))
            if Pattern(#"\b(?:no|not|without|avoid\w*|disabl\w*|omit\w*|remov\w*|drop\w*|instead of|lacks?|never|nor|exclud\w*|free of)\b"#).firstMatch(before) != nil { return true }
        }
        let afterLen = min(30, ns.length - h.match.end)
        if afterLen > 0 {
            let after = ns.substring(with: NSRange(location: h.match.end, length: afterLen))
            if Pattern(#"^\s*(?:is|are|were|was|has been|have been)?\s*(?:disabled|off|removed|omitted|turned off|not used|dropped|absent|avoided)\b"#).firstMatch(after) != nil { return true }
        }
        return false
    }

    typealias Make = (TextMatch, String) -> ClaimProperty?
    /// (pattern, overlap category, takes a stage scope, constructor). Order = priority.
    static let rules: [(Pattern, String, Bool, Make)] = {
        var r: [(Pattern, String, Bool, Make)] = []
        func add(_ p: String, _ cat: String, scoped: Bool = true, _ make: @escaping Make) { r.append((Pattern(p), cat, scoped, make)) }
        func int(_ m: TextMatch, _ i: Int) -> Int? { m.groups[i].flatMap(parseCount) }
        let num = "(\\d+|\(numberWordPattern))"
        // Whole-network quantities first: they contain words the stage rules would take.
        add(#"\bfrom\s+(\d+)\s+(?:channels\s+)?(?:up\s+)?to\s+(\d+)\s*(?:output\s+)?(?:channels|filters)"#, "channels", scoped: false) { m, _ in
            .channelRange(Int(m.groups[0]!)!, Int(m.groups[1]!)!) }
        add(#"\b(?:channels?|widths?|filters)\b[^.;]{0,30}?\bfrom\s+(\d+)\s+(?:up\s+)?to\s+(\d+)\b"#, "channels", scoped: false) { m, _ in
            .channelRange(Int(m.groups[0]!)!, Int(m.groups[1]!)!) }
        add(#"(~|≈|about|around|approximately|approx\.?|roughly|nearly|under|below|less than|within|at most|up to|over|above|more than|at least|<|>|≤|≥)?\s*(\d+(?:\.\d+)?)\s*%\s*(?:top-1\s+|validation\s+|val\s+|test\s+)?accuracy"#, "metric", scoped: false) { m, _ in
            .metricValue(.accuracy, comparator(m.groups[0]), Double(m.groups[1]!)! / 100) }
        add(#"(~|≈|about|around|approximately|approx\.?|roughly|nearly|under|below|less than|within|at most|up to|over|above|more than|at least|<|>|≤|≥)?\s*(?:the\s+)?(\d+(?:\.\d+)?)\s*(k|m|g|kb|mb|kib|mib|bytes|b)?\s*(?:of\s+)?(?:peak\s+)?(macs?|mflops|flops|multiply[- ]accumulates|sram|ram|memory|params|parameters|flash)\b"#, "metric", scoped: false) { m, _ in
            metricValue(value: m.groups[1]!, unit: m.groups[2], metricWord: m.groups[3]!, cmp: m.groups[0]) }
        add(#"\b(macs?|flops|sram|peak memory|memory|params|parameters|flash)\b[^.;\d]{0,24}?(~|≈|about|around|approximately|roughly|under|below|less than|within|at most|over|above|more than|at least|<|>|≤|≥)?\s*(\d+(?:\.\d+)?)\s*(k|m|g|kb|mb|kib|mib)\b"#, "metric", scoped: false) { m, _ in
            metricValue(value: m.groups[2]!, unit: m.groups[3], metricWord: m.groups[0]!, cmp: m.groups[1]) }
        add(#"\b(?:fits?|fitting|stays?|staying|remains?|within|under|meets?|meeting|satisf\w+|respects?|respecting)\s+(?:\w+\s+){0,3}?(?:budgets?|constraints?|limits?)\b"#, "metric", scoped: false) { _, _ in .fitsBudget }
        add("\\bdownsampl\\w*\\s+\(num)\\s+times\\b|\\b\(num)\\s+(?:downsampling|stride-2|strided)\\s+(?:stages|layers|steps|operations)\\b", "count", scoped: false) { m, _ in
            (int(m, 0) ?? int(m, 1)).map { .downsampleCount($0) } }
        add("\\b\(num)[- ]stages?\\b", "count", scoped: false) { m, _ in int(m, 0).map { .stageCount($0) } }
        // Relative claims: "larger kernels in deeper stages", "channels increase with depth".
        add(#"\b(larger|bigger|increas\w*|growing|wider|more|smaller|fewer|narrower|reduced|lower|less)\s+(?:\w+\s+)?(kernels?|kernel sizes?|channels|filters|widths?|expansion\w*)\b"#, "trend") { m, _ in
            trend(m.groups[1]!, larger: !["smaller", "fewer", "narrower", "reduced", "lower", "less"].contains(m.groups[0]!.lowercased())) }
        add(#"\b(kernels?|kernel sizes?|channels?|channel counts?|widths?|expansion\w*)\s+(?:\w+\s+){0,2}?(?:increas\w*|grow\w*|widen\w*|get larger|doubl\w*)"#, "trend") { m, _ in
            trend(m.groups[0]!, larger: true) }
        // Squeeze-excitation.
        add(#"\b(?:se|squeeze[- ]?(?:and[- ])?excit\w*)\b[^.;\d]{0,25}?(?:ratio|reduction)?\s*(?:of|=|:)?\s*\(?\s*(0?\.\d+|1/\d+)"#, "se") { m, _ in
            ratio(m.groups[0]!).map { .seRatio($0) } }
        add(#"\bsqueeze[- ]?(?:and[- ])?excit\w*(?:\s+(?:blocks?|modules?|layers?|attention))?|\bse\b(?:\s+(?:blocks?|modules?|layers?|attention))?"#, "se") { _, _ in .squeezeExcite }
        // Blocks.
        add(#"\bfused[- ]?mbconv\b|\bfused[- ]inverted"#, "block") { _, _ in .block([.fusedMBConv], name: "fused_mbconv") }
        add(#"\bmbconv\b|\binverted[- ]residuals?\b|\binverted[- ]bottlenecks?\b|\bmobile inverted\b"#, "block") { _, _ in .block([.mbconv], name: "mbconv") }
        add(#"\bdepthwise[- ]separable\b|\bdsconv\b|\bdepthwise\s+(?:blocks?|layers?|stages?)\b|conv_type\W+depthwise"#, "block") { _, _ in .block([.dsconv], name: "dsconv (depthwise separable)") }
        add(#"\bdepthwise(?:\s+conv\w*)?\b"#, "block") { _, _ in .block([.dsconv, .mbconv], name: "a depthwise convolution (dsconv or mbconv)") }
        add(#"\b(?:basic|resnet)\s+(?:residual\s+)?blocks?\b"#, "block") { _, _ in .block([.basic], name: "basic") }
        add(#"\b(?:standard|plain|regular|full)\s+conv\w*"#, "block") { _, _ in .block([.conv], name: "conv") }
        // Kernels.
        add(#"\b1\s*[x×*]\s*1\b|\bpointwise\b"#, "kernel") { _, _ in .pointwise }
        add(#"\b(\d+)\s*[x×*]\s*(\d+)\b(?!\s*(?:input|image|resolution|pixels|px|images))"#, "kernel") { m, _ in
            guard let a = Int(m.groups[0]!), a == Int(m.groups[1]!), (2...11).contains(a) else { return nil }
            return .kernel(a) }
        add(#"\bkernels?(?:\s+sizes?)?(?:\s+of|\s*=|\s*:|\s+is|\s+are)?\s+(\d+)\b|\bk\s*=\s*(\d+)\b|\b(\d+)-?(?:tap|wide)?\s+kernels?\b"#, "kernel") { m, _ in
            guard let k = int(m, 0) ?? int(m, 1) ?? int(m, 2), (2...11).contains(k) else { return nil }
            return .kernel(k) }
        // Expansion.
        add(#"\bexpan(?:sion|d)(?:\s+(?:ratio|factor|rate))?s?(?:\s+of|\s*=|\s*:|\s+is|\s+to)?\s+(\d+)\b(?!\s*(?:channels|filters))|\b(\d+)\s*[x×]?\s*expansion\b|\be\s*=\s*(\d+)\b"#, "expansion") { m, _ in
            guard let e = int(m, 0) ?? int(m, 1) ?? int(m, 2), (1...16).contains(e) else { return nil }
            return .expansion(e) }
        // Depth and width.
        add("\\b(\\d+|\(numberWordPattern)|a single)\\s+(?:[a-z-]+\\s+)?(?:layers?|repeats|repetitions)\\b|\\brepeated\\s+\(num)\\s+times\\b", "count") { m, _ in
            (int(m, 0) ?? int(m, 1)).map { .layerCount($0) } }
        add(#"\b(\d+)\s+(?:output\s+)?(?:channels|filters)\b|\b(\d+)-channel\b|\b(?:channels?|width|filters)\s+(?:of|=|:|to)\s+(\d+)\b"#, "channels") { m, clause in
            guard let c = int(m, 0) ?? int(m, 1) ?? int(m, 2) else { return nil }
            if c <= 4, Pattern(#"\b(?:input|rgb|image|colour|color)\b"#).firstMatch(clause) != nil { return nil }
            return .channels(c) }
        // Shortcuts ("inverted residual" is a block, not a shortcut claim).
        add(#"(?<!inverted\s)(?<!inverted-)\b(?:residual|skip|shortcut|identity)[- _]?(?:connections?|links?|paths?|shortcuts?|ops?|adds?)\b|(?<!inverted\s)(?<!inverted-)\bresiduals?\b|\bshortcuts?\b"#, "shortcut") { _, _ in .shortcut }
        // Activations (longest names first).
        add(#"\brelu[- ]?6\b"#, "act") { _, _ in .activation(.relu6) }
        add(#"\bleaky[- _]?relus?\b"#, "act") { _, _ in .activation(.leakyRelu) }
        add(#"\bh(?:ard)?[- _]?swish\b"#, "act") { _, _ in .activation(.hswish) }
        add(#"\bswish\b|\bsilu\b"#, "act") { _, _ in .activation(.swish) }
        add(#"\brelus?\b"#, "act") { _, _ in .activation(.relu) }
        // Strides.
        add(#"\bstrides?(?:\s+of|\s*=|\s*:)?\s+(\d)\b|\bstride[- ](\d)\b"#, "stride") { m, _ in
            (int(m, 0) ?? int(m, 1)).map { .stride($0) } }
        add(#"\bdownsampl\w*|\bstrided\b|\breduc\w+\s+(?:the\s+)?(?:spatial\s+)?(?:resolution|feature[- ]map size)|\bhalv\w*\s+(?:the\s+)?(?:spatial\s+)?resolution"#, "stride") { _, _ in .downsampling }
        // Effects, paired with the nearest direction word.
        add(#"\b(reduc\w*|lower\w*|decreas\w*|cut\w*|sav\w*|smaller|less|minimi\w*|fewer|shrink\w*|trim\w*|cheaper|increas\w*|improv\w*|boost\w*|higher|rais\w*|enhanc\w*|gain\w*|better|grow\w*)\s+(?:the\s+|overall\s+|total\s+|peak\s+|our\s+)*(macs?|flops|compute|computation(?:al cost)?|sram|ram|memory(?:\s+footprint|\s+usage)?|activation memory|param\w*|model size|flash|accuracy|top-1|latency|inference time)\b"#, "metric", scoped: false) { m, _ in
            effect(metric: m.groups[1]!, direction: m.groups[0]!) }
        add(#"\b(macs?|flops|compute|sram|ram|memory(?:\s+footprint|\s+usage)?|param\w*|model size|flash|accuracy|latency)\s+(?:\w+\s+){0,2}?(reduc\w*|lower\w*|decreas\w*|drops?|falls?|shrinks?|increas\w*|improv\w*|rises?|grows?|goes up|goes down)\b"#, "metric", scoped: false) { m, _ in
            effect(metric: m.groups[0]!, direction: m.groups[1]!) }
        return r
    }()

    static func comparator(_ w: String?) -> ClaimProperty.Comparator {
        guard let w = w?.lowercased() else { return .about }
        if ["under", "below", "less than", "within", "at most", "up to", "<", "≤"].contains(w) { return .atMost }
        if ["over", "above", "more than", "at least", ">", "≥"].contains(w) { return .atLeast }
        return .about
    }

    static func metric(_ w: String) -> ClaimMetric? {
        let w = w.lowercased()
        if w.hasPrefix("mac") || w.contains("flop") || w.hasPrefix("comput") || w.hasPrefix("multiply") { return .macs }
        if w.hasPrefix("sram") || w == "ram" || w.contains("memory") { return .sram }
        if w.hasPrefix("param") || w == "model size" { return .params }
        if w == "flash" { return .flash }
        if w == "accuracy" || w == "top-1" { return .accuracy }
        if w == "latency" || w == "inference time" { return .latency }
        return nil
    }

    static func metricValue(value: String, unit: String?, metricWord: String, cmp: String?) -> ClaimProperty? {
        guard let v = Double(value), let met = metric(metricWord) else { return nil }
        let u = unit?.lowercased() ?? ""
        var scale = 1.0
        switch met {
        case .sram, .flash:
            scale = ["k": 1024, "kb": 1024, "kib": 1024, "m": 1_048_576, "mb": 1_048_576, "mib": 1_048_576][u] ?? 1
        case .macs, .params:
            scale = ["k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9][u] ?? 1
            if metricWord.lowercased() == "mflops" { scale = 1e6 }
        default: break
        }
        return .metricValue(met, comparator(cmp), v * scale)
    }

    static func effect(metric w: String, direction d: String) -> ClaimProperty? {
        guard let met = metric(w) else { return nil }
        let down = Pattern(#"^(?:reduc|lower|decreas|cut|sav|smaller|less|minimi|fewer|shrink|trim|cheaper|drop|fall|goes down)"#).firstMatch(d) != nil
        return .effect(met, increase: !down)
    }

    static func trend(_ w: String, larger: Bool) -> ClaimProperty? {
        let w = w.lowercased()
        let field: ClaimProperty.Field = w.hasPrefix("kernel") ? .kernel : w.hasPrefix("expan") ? .expansion : .channels
        return .relative(field, larger: larger)
    }

    static func ratio(_ s: String) -> Double? {
        if s.hasPrefix("1/"), let d = Double(s.dropFirst(2)), d > 0 { return 1 / d }
        return Double(s)
    }
}
