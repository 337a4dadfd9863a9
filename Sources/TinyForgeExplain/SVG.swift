import Foundation

/// Escapes text for HTML/SVG element content and attribute values.
func esc(_ s: String) -> String {
    var o = ""
    o.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": o += "&amp;"
        case "<": o += "&lt;"
        case ">": o += "&gt;"
        case "\"": o += "&quot;"
        case "'": o += "&#39;"
        default: o.append(c)
        }
    }
    return o
}

func f1(_ x: Double) -> String { String(format: "%.1f", x) }

/// Colours for categories (proposers, runtimes): Tableau 10, readable on white and in grey.
let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

/// A linear axis from data to pixels with "nice" ticks (1, 2, 5 × 10^k steps).
struct LinearScale {
    var lo: Double, hi: Double
    var p0: Double, p1: Double
    /// Ticks are "nice" in this unit (1024 for byte axes, so they land on round KB).
    var tickUnit = 1.0

    init(domain: (Double, Double), range: (Double, Double), pad: Double = 0.05) {
        var (a, b) = domain
        if !(a.isFinite && b.isFinite) { (a, b) = (0, 1) }
        if a == b { a -= max(abs(a) * 0.1, 1); b += max(abs(b) * 0.1, 1) }
        let d = (b - a) * pad
        lo = a - d; hi = b + d; p0 = range.0; p1 = range.1
    }

    func callAsFunction(_ v: Double) -> Double { p0 + (v - lo) / (hi - lo) * (p1 - p0) }

    func ticks(_ count: Int = 5) -> [Double] {
        let lo = self.lo / tickUnit, hi = self.hi / tickUnit
        let raw = (hi - lo) / Double(max(count, 1))
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t * tickUnit); t += step }
        return out
    }
}

/// One chart canvas: margins, two scales, and the SVG being written. Charts call the drawing
/// helpers and then `finish()`.
struct SVGPlot {
    let width: Double, height: Double
    let left: Double, right: Double, top: Double, bottom: Double
    var x: LinearScale
    var y: LinearScale
    var body = ""

    init(width: Double = 530, height: Double = 330, margins: (Double, Double, Double, Double) = (64, 18, 30, 48),
         xDomain: (Double, Double), yDomain: (Double, Double), xPad: Double = 0.05, yPad: Double = 0.08) {
        self.width = width; self.height = height
        (left, right, top, bottom) = margins
        x = LinearScale(domain: xDomain, range: (margins.0, width - margins.1), pad: xPad)
        y = LinearScale(domain: yDomain, range: (height - margins.3, margins.2), pad: yPad)
    }

    /// Grid, ticks and axis titles. `fx`/`fy` format tick values.
    mutating func axes(xTitle: String, yTitle: String, fx: (Double) -> String, fy: (Double) -> String) {
        var s = "<g class=\"axes\">"
        for t in y.ticks() {
            let py = f1(y(t))
            s += "<line x1=\"\(f1(left))\" x2=\"\(f1(width - right))\" y1=\"\(py)\" y2=\"\(py)\" class=\"grid\"/>"
            s += "<text x=\"\(f1(left - 6))\" y=\"\(py)\" dy=\"0.32em\" text-anchor=\"end\">\(esc(fy(t)))</text>"
        }
        for t in x.ticks() {
            let px = f1(x(t))
            s += "<line x1=\"\(px)\" x2=\"\(px)\" y1=\"\(f1(top))\" y2=\"\(f1(height - bottom))\" class=\"grid\"/>"
            s += "<text x=\"\(px)\" y=\"\(f1(height - bottom + 16))\" text-anchor=\"middle\">\(esc(fx(t)))</text>"
        }
        s += "<rect x=\"\(f1(left))\" y=\"\(f1(top))\" width=\"\(f1(width - left - right))\" height=\"\(f1(height - top - bottom))\" class=\"frame\"/>"
        s += "<text x=\"\(f1((left + width - right) / 2))\" y=\"\(f1(height - 8))\" text-anchor=\"middle\" class=\"title\">\(esc(xTitle))</text>"
        s += "<text transform=\"translate(14 \(f1((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"title\">\(esc(yTitle))</text>"
        body += s + "</g>"
    }

    mutating func circle(_ vx: Double, _ vy: Double, r: Double = 4, fill: String, stroke: String = "#fff", title: String? = nil) {
        body += "<circle cx=\"\(f1(x(vx)))\" cy=\"\(f1(y(vy)))\" r=\"\(f1(r))\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1\">"
        body += title.map { "<title>\(esc($0))</title>" } ?? ""
        body += "</circle>"
    }

    mutating func polyline(_ pts: [(Double, Double)], stroke: String, width w: Double = 2, dash: String? = nil, step: Bool = false) {
        guard !pts.isEmpty else { return }
        var coords: [String] = []
        for (i, p) in pts.enumerated() {
            if step, i > 0 { coords.append("\(f1(x(p.0))),\(f1(y(pts[i - 1].1)))") }
            coords.append("\(f1(x(p.0))),\(f1(y(p.1)))")
        }
        body += "<polyline points=\"\(coords.joined(separator: " "))\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(f1(w))\""
            + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + " stroke-linejoin=\"round\"/>"
    }

    /// A labelled limit line across the plot (vertical when `vertical`).
    mutating func limit(_ v: Double, vertical: Bool, label: String, colour: String = "#c0392b") {
        if vertical {
            let px = f1(x(v))
            body += "<line x1=\"\(px)\" x2=\"\(px)\" y1=\"\(f1(top))\" y2=\"\(f1(height - bottom))\" stroke=\"\(colour)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
            body += "<text x=\"\(f1(x(v) - 4))\" y=\"\(f1(top + 12))\" text-anchor=\"end\" class=\"limit\" fill=\"\(colour)\">\(esc(label))</text>"
        } else {
            let py = f1(y(v))
            body += "<line x1=\"\(f1(left))\" x2=\"\(f1(width - right))\" y1=\"\(py)\" y2=\"\(py)\" stroke=\"\(colour)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
            body += "<text x=\"\(f1(width - right - 4))\" y=\"\(f1(y(v) - 5))\" text-anchor=\"end\" class=\"limit\" fill=\"\(colour)\">\(esc(label))</text>"
        }
    }

    mutating func legend(_ items: [(String, String)], dashed: Set<String> = []) {
        var px = left
        let py = top - 9
        for (label, colour) in items {
            if dashed.contains(label) {
                body += "<line x1=\"\(f1(px))\" x2=\"\(f1(px + 14))\" y1=\"\(f1(py - 4))\" y2=\"\(f1(py - 4))\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>"
            } else {
                body += "<rect x=\"\(f1(px))\" y=\"\(f1(py - 9))\" width=\"12\" height=\"10\" rx=\"2\" fill=\"\(colour)\"/>"
            }
            body += "<text x=\"\(f1(px + 17))\" y=\"\(f1(py))\" class=\"legend\">\(esc(label))</text>"
            px += 30 + Double(label.count) * 6.2
        }
    }

    func finish(label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(esc(label))\" class=\"chart\">"
            + body + "</svg>"
    }
}
