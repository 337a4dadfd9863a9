import Foundation
import TinyForgeHardware

/// The report's charts, drawn as inline SVG (no scripts, no external assets).
enum ReportCharts {
    static func kb(_ b: Double) -> String { b >= 1024 * 1024 ? String(format: "%.1f MB", b / 1_048_576) : String(format: "%.0f KB", b / 1024) }
    static func mega(_ v: Double) -> String { v >= 1e9 ? String(format: "%.1fG", v / 1e9) : v >= 1e6 ? String(format: "%gM", (v / 1e5).rounded() / 10) : v == 0 ? "0" : String(format: "%gK", (v / 100).rounded() / 10) }

    static func proposerColours(_ points: [CandidatePoint]) -> [String: String] {
        var out: [String: String] = [:]
        for p in points where out[p.proposer] == nil { out[p.proposer] = palette[out.count % palette.count] }
        return out
    }

    /// Accuracy against MACs or peak SRAM; filled = fits the budget, hollow = over it; the
    /// front as a staircase; the budget limit dashed.
    static func pareto(_ points: [CandidatePoint], sram: Bool, limit: Double?, colours: [String: String]) -> String {
        let pts = points.filter { $0.valAccuracy != nil }
        let xv: (CandidatePoint) -> Double = { sram ? Double($0.peakSRAMBytes) : Double($0.macs) }
        let xs = pts.map(xv) + (limit.map { [$0] } ?? [])
        let ys = pts.map { $0.valAccuracy! * 100 }
        var p = SVGPlot(xDomain: (0, xs.max() ?? 1), yDomain: (ys.min() ?? 0, ys.max() ?? 1), xPad: 0.04)
        if sram { p.x.tickUnit = 1024 }
        p.axes(xTitle: sram ? "peak SRAM (our runtime)" : "MACs", yTitle: "val accuracy (%)",
               fx: sram ? { kb($0) } : { mega($0) }, fy: { String(format: "%g", $0) })
        if let l = limit { p.limit(l, vertical: true, label: sram ? "SRAM budget \(kb(l))" : "MAC budget \(mega(l))") }
        let front = pts.filter { sram ? $0.onFrontSRAM : $0.onFrontMACs }.sorted { xv($0) < xv($1) }
        p.polyline(front.map { (xv($0), $0.valAccuracy! * 100) }, stroke: "#333", width: 1.5, dash: "3 2", step: true)
        for q in pts.sorted(by: { ($0.onFrontMACs ? 1 : 0) < ($1.onFrontMACs ? 1 : 0) }) {
            let c = colours[q.proposer] ?? "#888"
            let onFront = sram ? q.onFrontSRAM : q.onFrontMACs
            let tip = "\(q.hash.prefix(12)) · \(q.proposer) · \(String(format: "%.2f%%", q.valAccuracy! * 100)) · \(mega(Double(q.macs))) MACs · \(kb(Double(q.peakSRAMBytes)))" + (q.fits ? "" : " · over budget")
            p.circle(xv(q), q.valAccuracy! * 100, r: onFront ? 5.5 : 4, fill: q.fits ? c : "#fff", stroke: q.fits ? (onFront ? "#222" : "#fff") : c, title: tip)
        }
        p.legend(colours.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return p.finish(label: sram ? "Pareto front: accuracy vs peak SRAM" : "Pareto front: accuracy vs MACs")
    }

    static func hypervolume(_ series: [HypervolumeSeries], colours: [String: String]) -> String {
        let all = series.flatMap(\.points)
        var p = SVGPlot(xDomain: (0, Double(all.map(\.evaluation).max() ?? 1)),
                        yDomain: (all.map(\.hypervolume).min() ?? 0, all.map(\.hypervolume).max() ?? 1), xPad: 0.02)
        p.axes(xTitle: "evaluations", yTitle: "hypervolume", fx: { String(format: "%g", $0) }, fy: { String(format: "%.3g", $0) })
        var legend: [(String, String)] = []
        for (i, s) in series.enumerated() {
            let c = colours[s.label] ?? palette[(colours.count + i) % palette.count]
            p.polyline(s.points.map { (Double($0.evaluation), $0.hypervolume) }, stroke: c, width: 2, step: true)
            legend.append((s.label, c))
        }
        p.legend(legend)
        return p.finish(label: "Hypervolume against evaluations")
    }

    /// Bytes live per op for our runtime and TFLM; the peak of each marked.
    static func memoryTimeline(_ t: MemoryTimeline, sramLimit: Int) -> String {
        let n = t.ours.count
        var p = SVGPlot(width: 1100, height: 320, margins: (72, 18, 28, 48), xDomain: (0, Double(max(n - 1, 1))),
                        yDomain: (0, Double(max(t.tflm.max() ?? 0, t.ours.max() ?? 0, sramLimit))), xPad: 0.01, yPad: 0.06)
        p.y.tickUnit = 1024
        p.axes(xTitle: "op (execution order)", yTitle: "live activation bytes", fx: { String(Int($0)) }, fy: { kb($0) })
        p.limit(Double(sramLimit), vertical: false, label: "SRAM budget \(kb(Double(sramLimit)))")
        p.polyline(t.tflm.enumerated().map { (Double($0.offset), Double($0.element)) }, stroke: palette[1], width: 1.6, dash: "5 3", step: true)
        p.polyline(t.ours.enumerated().map { (Double($0.offset), Double($0.element)) }, stroke: palette[0], width: 2.2, step: true)
        for (i, v) in t.ours.enumerated() {
            p.circle(Double(i), Double(v), r: 1.8, fill: palette[0], stroke: "none", title: "op \(i) \(t.roles[i]): \(kb(Double(v))) live (ours), \(kb(Double(t.tflm[i]))) (TFLM)")
        }
        p.circle(Double(t.peakOp), Double(t.ours[t.peakOp]), r: 6, fill: "none", stroke: "#c0392b", title: "peak (ours): \(t.roles[t.peakOp])")
        p.body += "<text x=\"\(f1(p.x(Double(t.peakOp)) + 9))\" y=\"\(f1(p.y(Double(t.ours[t.peakOp])) + 14))\" class=\"annot\">peak \(esc(kb(Double(t.ours[t.peakOp])))) at \(esc(t.roles[t.peakOp]))</text>"
        p.circle(Double(t.tflmPeakOp), Double(t.tflm[t.tflmPeakOp]), r: 5, fill: "none", stroke: palette[1], title: "peak (TFLM): \(t.roles[t.tflmPeakOp])")
        p.legend([("TinyForge plan (arena \(kb(Double(t.arenaBytes))))", palette[0]), ("TFLM (arena \(kb(Double(t.tflmArenaBytes))))", palette[1])],
                 dashed: ["TFLM (arena \(kb(Double(t.tflmArenaBytes))))"])
        return p.finish(label: "Per-op memory timeline")
    }

    /// Horizontal bars (label, value) scaled to the largest.
    static func bars(_ items: [(String, Double)], colour: String, format: (Double) -> String, width: Double = 520) -> String {
        let rowH = 20.0, labelW = 190.0, top = 6.0
        let h = top * 2 + rowH * Double(items.count)
        let maxV = max(items.map(\.1).max() ?? 1, 1e-12)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(h))\" width=\"\(Int(width))\" height=\"\(Int(h))\" class=\"chart\" role=\"img\" aria-label=\"bars\">"
        for (i, (label, v)) in items.enumerated() {
            let y = top + Double(i) * rowH
            let w = (width - labelW - 70) * v / maxV
            s += "<text x=\"\(f1(labelW - 6))\" y=\"\(f1(y + 14))\" text-anchor=\"end\" class=\"mono\">\(esc(label))</text>"
            s += "<rect x=\"\(f1(labelW))\" y=\"\(f1(y + 3))\" width=\"\(f1(max(w, 0.5)))\" height=\"\(f1(rowH - 6))\" rx=\"2\" fill=\"\(colour)\"><title>\(esc(label)): \(esc(format(v)))</title></rect>"
            s += "<text x=\"\(f1(labelW + w + 5))\" y=\"\(f1(y + 14))\" class=\"value\">\(esc(format(v)))</text>"
        }
        return s + "</svg>"
    }

    /// One small partial-dependence panel; x = grid positions (categorical labels shown).
    static func partialDependence(_ pd: PartialDependence, bytes: Bool, format: (Double) -> String) -> String {
        let n = pd.grid.count
        var p = SVGPlot(width: 250, height: 160, margins: (52, 10, 22, 34), xDomain: (0, Double(max(n - 1, 1))),
                        yDomain: (pd.values.min() ?? 0, pd.values.max() ?? 1), xPad: 0.08, yPad: 0.15)
        if bytes { p.y.tickUnit = 1024 }
        var s = "<g class=\"axes\">"
        for t in p.y.ticks(3) {
            s += "<line x1=\"52\" x2=\"240\" y1=\"\(f1(p.y(t)))\" y2=\"\(f1(p.y(t)))\" class=\"grid\"/>"
            s += "<text x=\"48\" y=\"\(f1(p.y(t)))\" dy=\"0.32em\" text-anchor=\"end\">\(esc(format(t)))</text>"
        }
        let shown: Set<Int> = n <= 6 ? Set(0..<n) : [0, n / 2, n - 1]
        for (i, l) in pd.labels.enumerated() where shown.contains(i) {
            s += "<text x=\"\(f1(p.x(Double(i))))\" y=\"142\" text-anchor=\"middle\">\(esc(String(l.prefix(9))))</text>"
        }
        s += "<text x=\"145\" y=\"14\" text-anchor=\"middle\" class=\"title mono\">\(esc(pd.feature))</text></g>"
        p.body += s
        p.polyline(pd.values.enumerated().map { (Double($0.offset), $0.element) }, stroke: palette[0], width: 2)
        for (i, v) in pd.values.enumerated() { p.circle(Double(i), v, r: 3, fill: palette[0], title: "\(pd.feature) = \(pd.labels[i]): \(format(v))") }
        return p.finish(label: "partial dependence on \(pd.feature)")
    }

    /// Usage ratio bars with the 100% line.
    static func usage(_ u: [BudgetUsage]) -> String {
        let w = 520.0, rowH = 26.0, labelW = 70.0
        let maxR = max(1.1, (u.map(\.ratio).max() ?? 1) * 1.05)
        let h = rowH * Double(u.count) + 8
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" class=\"chart\" role=\"img\" aria-label=\"budget usage\">"
        let span = w - labelW - 150
        for (i, b) in u.enumerated() {
            let y = 4 + Double(i) * rowH
            let colour = b.ratio > 1 ? "#c0392b" : b.ratio > 0.85 ? "#e67e22" : "#59a14f"
            s += "<text x=\"\(f1(labelW - 6))\" y=\"\(f1(y + 16))\" text-anchor=\"end\">\(esc(b.kind.label))</text>"
            s += "<rect x=\"\(f1(labelW))\" y=\"\(f1(y + 4))\" width=\"\(f1(span))\" height=\"16\" fill=\"#eef1f4\" rx=\"3\"/>"
            s += "<rect x=\"\(f1(labelW))\" y=\"\(f1(y + 4))\" width=\"\(f1(span * min(b.ratio, maxR) / maxR))\" height=\"16\" fill=\"\(colour)\" rx=\"3\"/>"
            s += "<text x=\"\(f1(labelW + span + 6))\" y=\"\(f1(y + 16))\" class=\"value\">\(esc(String(format: "%.1f%% ", b.ratio * 100) + b.format(b.value)))</text>"
        }
        let x100 = labelW + span / maxR
        s += "<line x1=\"\(f1(x100))\" x2=\"\(f1(x100))\" y1=\"2\" y2=\"\(f1(h - 2))\" stroke=\"#333\" stroke-dasharray=\"3 2\"/>"
        return s + "</svg>"
    }

    /// Stacked bars of MACs and params per component (stem, stages, head).
    static func shares(_ shares: [ComponentShare]) -> String {
        let w = 1100.0, left = 70.0, right = 10.0
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(w)) 96\" width=\"\(Int(w))\" height=\"96\" class=\"chart\" role=\"img\" aria-label=\"MAC and parameter shares\">"
        for (row, (name, share)) in [("MACs", \ComponentShare.macsShare), ("params", \ComponentShare.paramsShare)].enumerated() {
            let y = 8.0 + Double(row) * 40
            s += "<text x=\"\(f1(left - 6))\" y=\"\(f1(y + 19))\" text-anchor=\"end\">\(name)</text>"
            var x = left
            for (i, c) in shares.enumerated() {
                let bw = (w - left - right) * c[keyPath: share]
                s += "<rect x=\"\(f1(x))\" y=\"\(f1(y))\" width=\"\(f1(bw))\" height=\"28\" fill=\"\(palette[i % palette.count])\" stroke=\"#fff\"><title>\(esc(c.component)): \(esc(pct(c[keyPath: share])))</title></rect>"
                if bw > 96 { s += "<text x=\"\(f1(x + 4))\" y=\"\(f1(y + 18))\" class=\"onbar\">\(esc(c.component)) \(esc(pct(c[keyPath: share])))</text>" }
                x += bw
            }
        }
        return s + "</svg>"
    }
}
