/// Small helpers that print C99 source text: array initialisers, comments, shapes.
enum CSource {
    /// `{ 1, -2, 3, ... }` wrapped at `perLine` values.
    static func initializer<T: BinaryInteger>(_ values: [T], perLine: Int = 24) -> String {
        if values.isEmpty { return "{ 0 }" }
        var lines = [String]()
        var i = 0
        while i < values.count {
            let chunk = values[i..<min(i + perLine, values.count)].map { literal($0) }
            lines.append("    " + chunk.joined(separator: ", "))
            i += perLine
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}"
    }

    /// A C integer literal; INT32_MIN cannot be written as a negated literal.
    static func literal<T: BinaryInteger>(_ v: T) -> String {
        if Int64(v) == Int64(Int32.min) { return "(-2147483647 - 1)" }
        return "\(v)"
    }

    /// Text safe inside `/* ... */`.
    static func comment(_ s: String) -> String {
        s.replacingOccurrences(of: "*/", with: "* /").replacingOccurrences(of: "\n", with: " ")
    }

    /// Body of a C string literal holding `s` as UTF-8: printable ASCII as is (quotes and
    /// backslashes escaped), every other byte as a three-digit octal escape (which, unlike
    /// `\x`, cannot swallow a following hex digit).
    static func utf8Literal(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "?"): out += "\\?"  // no trigraphs
            case 0x20...0x7E: out.unicodeScalars.append(UnicodeScalar(b))
            default: out += "\\" + String(b, radix: 8).leftPadded(to: 3)
            }
        }
        return out
    }

    /// A C string literal's contents.
    static func stringLiteral(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case _ where ch.value < 0x20 || ch.value > 0x7e: out += "?"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    static func shape(_ s: Shape4) -> String { "(tf_shape_t){ \(s.n), \(s.h), \(s.w), \(s.c) }" }

    /// Float for a header macro (the float is for the user's (de)quantisation only).
    static func float(_ f: Float) -> String {
        let d = "\(f)"
        return d.contains(".") || d.contains("e") ? "\(d)f" : "\(d).0f"
    }

    static func multiplier(_ m: QuantizedMultiplier) -> String { "\(literal(m.multiplier)), \(m.shift)" }
}

extension String {
    /// Zero-padded on the left to `n` characters.
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
