import Foundation
import TinyForgeSpec
import TinyForgeHardware

/// Writes the report as ONE self-contained HTML file: inline CSS, inline SVG charts, PNGs as
/// data URIs, no scripts and nothing fetched. Its JSON twin is `ExplainReport.jsonValue`.
public enum ReportWriter {
    public static func html(_ r: ExplainReport) -> String {
        var h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        h += "<title>\(esc(r.title))</title><style>\(css)</style></head><body><main>"
        h += header(r)
        h += section("Search", search(r))
        if !r.proposerEvidence.isEmpty { h += section("Who found the front", proposers(r)) }
        if let c = r.chosen { h += section("Chosen model \(c.shortHash)", chosen(c, r)) }
        h += section("What drives accuracy and cost (surrogate models)", surrogates(r))
        h += section("Per-candidate explanations", table(r))
        if !r.rationales.isEmpty { h += section("Rationale fact-check", rationales(r)) }
        if !r.images.isEmpty { h += section("Saliency", images(r)) }
        h += "<footer>Every number comes from the TinyForge cost model (LayerPlan, ActivationMemory) or the run's measured validation accuracy. "
        h += "Surrogates are gradient-boosted trees; attributions are exact path-dependent TreeSHAP values; R² is out-of-fold.</footer>"
        return h + "</main></body></html>\n"
    }

    /// Writes `name.html` and `name.json` side by side.
    public static func write(_ r: ExplainReport, htmlURL: URL) throws {
        try AtomicFile.write(html(r), to: htmlURL)
        try AtomicFile.write(r.jsonValue.prettyText() + "\n", to: htmlURL.deletingPathExtension().appendingPathExtension("json"))
    }

    static func section(_ title: String, _ body: String) -> String {
        let id = title.lowercased().prefix { $0.isLetter || $0 == " " }.split(separator: " ").first.map(String.init) ?? "s"
        return "<section id=\"\(id)\"><h2>\(esc(title))</h2>\(body)</section>"
    }

    static func header(_ r: ExplainReport) -> String {
        let b = r.limits.budget
        var limits = ["SRAM \(Units.formatBytes(b.sramBytes))", "flash \(Units.formatBytes(b.flashBytes))"]
        if let m = b.macs { limits.append("MACs \(Units.formatCount(m))") }
        if let l = r.limits.latencyMs { limits.append(String(format: "latency %.0f ms", l)) }
        let trained = r.points.filter { $0.valAccuracy != nil }.count
        var cards = [("candidates", "\(r.points.count)"), ("trained", "\(trained)"),
                     ("fit the budget", "\(r.points.filter(\.fits).count)"),
                     ("on the MAC front", "\(r.points.filter(\.onFrontMACs).count)")]
        if let c = r.chosen, let a = c.valAccuracy { cards.append(("best val accuracy", String(format: "%.2f%%", a * 100))) }
        var h = "<header><h1>\(esc(r.title))</h1><p class=\"sub\">target <b>\(esc(r.limits.target.name))</b> · budget \(esc(limits.joined(separator: " · ")))</p>"
        h += "<div class=\"cards\">" + cards.map { "<div class=\"card\"><div class=\"v\">\(esc($0.1))</div><div class=\"k\">\(esc($0.0))</div></div>" }.joined() + "</div>"
        for n in r.notes { h += "<p class=\"note\">\(esc(n))</p>" }
        return h + "</header>"
    }

    static func search(_ r: ExplainReport) -> String {
        let colours = ReportCharts.proposerColours(r.points)
        var h = "<div class=\"row\">"
        h += figure(ReportCharts.pareto(r.points, sram: false, limit: r.limits.budget.macs.map(Double.init), colours: colours),
                    "Accuracy vs MACs. Filled: fits the budget; hollow: over it; dark outline + dashed staircase: Pareto front.")
        h += figure(ReportCharts.pareto(r.points, sram: true, limit: Double(r.limits.budget.sramBytes), colours: colours),
                    "Accuracy vs peak SRAM of our runtime's activation plan.")
        h += "</div>"
        if !r.hypervolume.isEmpty {
            h += figure(ReportCharts.hypervolume(r.hypervolume, colours: colours), "Dominated hypervolume after each evaluation, per proposer / run.")
        }
        return h
    }

    static func chosen(_ c: CandidateExplanation, _ r: ExplainReport) -> String {
        var h = "<ul class=\"facts\">" + c.summary.map { "<li>\(esc($0))</li>" }.joined() + "</ul>"
        if let n = r.narrative, n.hash == c.hash { h += narrative(n) }
        h += "<div class=\"row\">"
        h += figure(ReportCharts.usage(c.usage), "Budget usage; the dashed line is 100 %. Binding: \(c.binding.description).")
        var t = "<table class=\"tight\"><thead><tr><th>buffer live at the peak</th><th>shape</th><th>bytes</th><th>written by</th></tr></thead><tbody>"
        for x in c.peak.tensors {
            t += "<tr><td class=\"mono\">\(esc(x.label))</td><td>\(esc(x.shape.map(shapeText) ?? "–"))</td><td class=\"num\">\(esc(Units.formatBytes(x.bytes)))</td><td class=\"mono\">\(esc(x.producerRole ?? "–"))</td></tr>"
        }
        t += "</tbody></table>"
        h += "<figure>\(t)<figcaption>Peak step \(c.peak.stepIndex) at <span class=\"mono\">\(esc(c.peak.role))</span> (\(esc(c.peak.kernel))): \(esc(Units.formatBytes(c.peak.liveBytes))) live.</figcaption></figure>"
        h += "</div>"
        h += figure(ReportCharts.memoryTimeline(c.timeline, sramLimit: r.limits.budget.sramBytes),
                    "Bytes live at each op: our plan (fused activations, in-place depthwise/add) against a stock TFLM plan; the peak is circled.")
        h += figure(ReportCharts.shares(c.shares), "Share of MACs and parameters per stem / stage / head.")
        return h
    }

    static func surrogates(_ r: ExplainReport) -> String {
        var h = ""
        for s in r.surrogates {
            let fmt: (Double) -> String = s.target == "val_accuracy" ? { String(format: "%.2f pt", $0 * 100) }
                : s.target == "macs" ? { ReportCharts.mega($0) } : { ReportCharts.kb($0) }
            let fmtLevel: (Double) -> String = s.target == "val_accuracy" ? { String(format: "%.1f%%", $0 * 100) } : fmt
            let trust: String
            switch s.cvR2 {
            case nil: trust = "<span class=\"badge grey\">R² n/a</span>"
            case let v? where v >= 0.7: trust = "<span class=\"badge ok\">\(s.folds)-fold R² \(String(format: "%.2f", v))</span>"
            case let v? where v >= 0.3: trust = "<span class=\"badge warn\">\(s.folds)-fold R² \(String(format: "%.2f", v)) — indicative only</span>"
            case let v?: trust = "<span class=\"badge bad\">\(s.folds)-fold R² \(String(format: "%.2f", v)) — do not trust these attributions</span>"
            }
            h += "<h3>\(esc(s.target)) \(trust) <span class=\"muted\">\(s.samples) candidates, \(s.model.trees.count) trees\(s.cvRMSE.map { ", held-out RMSE " + fmt($0) } ?? "")</span></h3>"
            h += "<div class=\"row\">"
            h += figure(ReportCharts.bars(s.groupImportance.prefix(10).map { ($0.feature, $0.meanAbsSHAP) }, colour: palette[4], format: fmt),
                        "Mean |SHAP| per design choice (summed over stages).")
            h += figure(ReportCharts.bars(s.importance.prefix(12).map { ($0.feature, $0.meanAbsSHAP) }, colour: palette[0], format: fmt),
                        "Mean |SHAP| per feature.")
            h += "</div><div class=\"multiples\">"
            h += s.partialDependence.map { ReportCharts.partialDependence($0, bytes: s.target == "peak_sram_bytes", format: fmtLevel) }.joined()
            h += "</div><p class=\"muted\">Partial dependence: average prediction with one feature set to each value, the others as observed.</p>"
        }
        for k in r.surrogateSkipped { h += "<p class=\"note\">Skipped: \(esc(k))</p>" }
        return h
    }

    static func table(_ r: ExplainReport) -> String {
        var h = "<div class=\"scroll\"><table><thead><tr><th>candidate</th><th>proposer</th><th>val acc</th><th>MACs</th><th>peak SRAM</th><th>flash</th><th>binding</th><th>peak at</th><th>changes vs reference</th><th>effect</th></tr></thead><tbody>"
        for e in r.explanations {
            let acc = e.valAccuracy.map { String(format: "%.2f%%", $0 * 100) } ?? e.status.rawValue
            let bind = "<span class=\"\(e.binding.fits ? (e.binding.ratio > 0.85 ? "warn" : "") : "bad")\">\(esc(e.binding.kind.label)) \(esc(pct(e.binding.ratio)))</span>"
            var changes = "–", effect = "–"
            if let c = e.comparison {
                changes = "<span class=\"muted\">\(c.relation == .parent ? "parent" : "nearest") \(esc(String(c.referenceHash.prefix(8))))</span> "
                    + (c.changes.isEmpty ? "none" : c.changes.prefix(5).map { "<code>\(esc($0.description))</code>" }.joined(separator: " ")
                        + (c.changes.count > 5 ? " +\(c.changes.count - 5)" : ""))
                var parts = ["MACs " + signed(c.deltaMACs, Units.formatCount), "SRAM " + signed(c.deltaPeakSRAM, Units.formatBytes),
                             "flash " + signed(c.deltaFlash, Units.formatBytes)]
                if let d = c.deltaAccuracy { parts.insert(String(format: "acc %+.2f pt", d * 100), at: 0) }
                effect = esc(parts.joined(separator: ", "))
            }
            h += "<tr><td class=\"mono\">\(esc(e.shortHash))\(e.name.map { "<br><span class=\"muted\">\(esc($0))</span>" } ?? "")</td><td>\(esc(e.proposer))</td><td class=\"num\">\(esc(acc))</td>"
            h += "<td class=\"num\">\(esc(Units.formatCount(e.macs)))</td><td class=\"num\">\(esc(Units.formatBytes(e.peakSRAMBytes)))</td><td class=\"num\">\(esc(Units.formatBytes(e.flashBytes)))</td>"
            h += "<td>\(bind)</td><td class=\"mono small\">\(esc(e.peak.role))</td><td class=\"small\">\(changes)</td><td class=\"small effect\">\(effect)</td></tr>"
        }
        return h + "</tbody></table></div>"
    }

    /// The LLM's explanation with the verdict on every claim and the sentences it could not check.
    static func narrative(_ n: NarrativeExplanation) -> String {
        var h = "<div class=\"rationale narrative\"><h3>Explanation by the LLM (\(esc(n.model))), fact-checked "
        h += "<span class=\"badge ok\">\(n.count(.true)) true</span> <span class=\"badge bad\">\(n.count(.false)) false</span> "
        h += "<span class=\"badge grey\">\(n.count(.unverifiable)) unverifiable</span></h3>"
        h += "<blockquote>\(esc(n.text))</blockquote>" + checkList(n.checks)
        if !n.unchecked.isEmpty {
            h += "<p class=\"muted small\">No checkable claim in: " + n.unchecked.map { "“\(esc($0))”" }.joined(separator: " ") + "</p>"
        }
        return h + "</div>"
    }

    static func checkList(_ checks: [ClaimCheck]) -> String {
        var h = "<ul class=\"checks\">"
        for c in checks {
            h += "<li class=\"v-\(c.verdict.rawValue)\"><b>\(esc(c.verdict.rawValue))</b> “\(esc(c.claim.quote))” <span class=\"muted\">(\(esc(c.claim.negated ? "not, " : ""))\(esc(c.claim.scope.label)))</span> — <span class=\"mono small\">\(esc(c.evidence))</span></li>"
        }
        return h + "</ul>"
    }

    static func rationales(_ r: ExplainReport) -> String {
        var h = ""
        for x in r.rationales {
            let t = x.checks.filter { $0.verdict == .true }.count, f = x.checks.filter { $0.verdict == .false }.count
            let u = x.checks.count - t - f
            h += "<div class=\"rationale\"><h3><span class=\"mono\">\(esc(String(x.hash.prefix(12))))</span> · \(esc(x.proposer)) "
            h += "<span class=\"badge ok\">\(t) true</span> <span class=\"badge bad\">\(f) false</span> <span class=\"badge grey\">\(u) unverifiable</span></h3>"
            h += "<blockquote>\(esc(x.rationale))</blockquote>" + checkList(x.checks) + "</div>"
        }
        return h
    }

    static func images(_ r: ExplainReport) -> String {
        "<div class=\"multiples\">" + r.images.map { img in
            "<figure><img alt=\"\(esc(img.title))\" src=\"data:image/png;base64,\(Data(img.png).base64EncodedString())\"><figcaption><b>\(esc(img.title))</b> \(esc(img.caption))</figcaption></figure>"
        }.joined() + "</div>"
    }

    static func figure(_ svg: String, _ caption: String) -> String {
        "<figure>\(svg)<figcaption>\(esc(caption))</figcaption></figure>"
    }

    static let css = """
    :root{--ink:#1d2733;--muted:#6b7785;--line:#dde3ea;--bg:#f6f8fa}
    *{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
    main{max-width:1180px;margin:0 auto;padding:24px}
    header{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 22px;margin-bottom:18px}
    h1{margin:0 0 4px;font-size:22px}h2{font-size:17px;margin:0 0 12px;padding-bottom:6px;border-bottom:2px solid #4e79a7}
    h3{font-size:14px;margin:16px 0 8px}.sub{margin:0;color:var(--muted)}
    section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:18px}
    .cards{display:flex;gap:12px;margin-top:14px;flex-wrap:wrap}.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px}
    .card .v{font-size:20px;font-weight:600}.card .k{color:var(--muted);font-size:12px}
    .row{display:flex;gap:18px;flex-wrap:wrap;align-items:flex-start}.multiples{display:flex;flex-wrap:wrap;gap:8px}
    figure{margin:0 0 12px}figcaption{color:var(--muted);font-size:12px;max-width:530px}
    svg.chart{display:block;background:#fff}svg text{font:11px system-ui,"DejaVu Sans",sans-serif;fill:#3a4654}
    svg .grid{stroke:#eceff3;stroke-width:1}svg .frame{fill:none;stroke:#b9c2cc}svg .title{font-size:12px;fill:#1d2733}
    svg .legend{font-size:11px}svg .limit{font-size:11px;font-weight:600}svg .annot{font-size:11px;fill:#c0392b}
    svg .mono,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace}svg .value{fill:#3a4654}svg .onbar{fill:#fff;font-size:11px}
    table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
    th{background:#f0f3f6;font-weight:600}td.num{text-align:right;white-space:nowrap}.small{font-size:11.5px}
    table.tight{width:auto;min-width:480px}.scroll{overflow-x:auto}
    code{background:#f0f3f6;border-radius:3px;padding:0 3px;margin:1px 0;font-size:11px;display:inline-block}
    td.small{max-width:300px}td.effect{min-width:150px}
    .muted{color:var(--muted);font-weight:normal}.warn{color:#b9770e;font-weight:600}.bad{color:#c0392b;font-weight:600}
    .badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:11.5px;font-weight:600;margin-left:4px}
    .badge.ok{background:#e3f4e6;color:#22793a}.badge.warn{background:#fdf1dc;color:#9a6200}.badge.bad{background:#fbe4e2;color:#b0302a}.badge.grey{background:#eceff3;color:#59636e}
    ul.facts li{margin:3px 0}blockquote{margin:6px 0;padding:6px 12px;border-left:3px solid var(--line);color:#3a4654;background:#fafbfc}
    ul.checks{list-style:none;padding:0;margin:6px 0}ul.checks li{padding:4px 8px;margin:3px 0;border-radius:4px;border-left:4px solid}
    li.v-true{background:#eef8f0;border-color:#59a14f}li.v-false{background:#fdeeee;border-color:#e15759}li.v-unverifiable{background:#f2f4f6;border-color:#bab0ac}
    .note{color:#59636e;font-size:12px}img{image-rendering:pixelated;width:192px;border:1px solid var(--line)}
    footer{color:var(--muted);font-size:12px;padding:8px 4px}
    """
}
