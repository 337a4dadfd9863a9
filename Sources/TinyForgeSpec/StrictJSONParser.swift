/// A strict RFC 8259 JSON reader producing `JSONValue`.
///
/// Foundation's decoder is lenient where leniency hides mistakes: of two equal keys the first
/// silently wins (even with the wrong type), `1e400` becomes an internal DecodingError text,
/// and acceptance of `01` or `1.` varies between platforms. Architecture files, search spaces,
/// run configs, checkpoint headers and LLM replies all describe exact values, so this reader
/// rejects every one of these and names the JSON path (`stages[2].kernel`) and line:column.
struct StrictJSONParser {
    /// Deeper nesting than any TinyForge document needs; the limit keeps a hostile input from
    /// exhausting the stack (the reader is recursive).
    static let maxDepth = 512

    private let bytes: [UInt8]
    private let source: String
    private var pos = 0

    init(_ bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    /// Parses one complete document (whitespace around it allowed, a UTF-8 BOM skipped).
    mutating func parseDocument() throws -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
        skipSpace()
        let v = try value(path: "", depth: 0)
        skipSpace()
        if pos < bytes.count { throw syntax("unexpected text after the end of the JSON value", at: pos) }
        return v
    }

    // MARK: values

    private mutating func value(path: String, depth: Int) throws -> JSONValue {
        guard depth < Self.maxDepth else {
            throw located(path, "nests deeper than \(Self.maxDepth) levels", at: pos)
        }
        guard pos < bytes.count else { throw syntax("ends early (unclosed bracket or missing value)", at: pos) }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object(path: path, depth: depth)
        case UInt8(ascii: "["): return try array(path: path, depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number(path: path))
        default: throw syntax("unexpected character \(describe(bytes[pos])); expected a value", at: pos)
        }
    }

    private mutating func object(path: String, depth: Int) throws -> JSONValue {
        pos += 1
        var o: [String: JSONValue] = [:]
        skipSpace()
        if peek(UInt8(ascii: "}")) { pos += 1; return .object(o) }
        while true {
            skipSpace()
            guard peek(UInt8(ascii: "\"")) else { throw syntax("expected a quoted key", at: pos) }
            let keyStart = pos
            let key = try string()
            let sub = path.isEmpty ? key : "\(path).\(key)"
            if o[key] != nil {
                throw located(sub, "duplicate key; each key may appear once (which value is meant is ambiguous)", at: keyStart)
            }
            skipSpace()
            try expect(UInt8(ascii: ":"), "expected ':' after the key")
            skipSpace()
            o[key] = try value(path: sub, depth: depth + 1)
            skipSpace()
            if peek(UInt8(ascii: ",")) { pos += 1; continue }
            try expect(UInt8(ascii: "}"), "expected ',' or '}' in the object")
            return .object(o)
        }
    }

    private mutating func array(path: String, depth: Int) throws -> JSONValue {
        pos += 1
        var a: [JSONValue] = []
        skipSpace()
        if peek(UInt8(ascii: "]")) { pos += 1; return .array(a) }
        while true {
            skipSpace()
            a.append(try value(path: "\(path)[\(a.count)]", depth: depth + 1))
            skipSpace()
            if peek(UInt8(ascii: ",")) { pos += 1; continue }
            try expect(UInt8(ascii: "]"), "expected ',' or ']' in the array")
            return .array(a)
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, finite as a Double.
    private mutating func number(path: String) throws -> Double {
        let start = pos
        func digits() -> Int {
            let s = pos
            while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1 }
            return pos - s
        }
        if peek(UInt8(ascii: "-")) { pos += 1 }
        let intStart = pos
        let intDigits = digits()
        guard intDigits > 0 else { throw located(path, "\"-\" must be followed by digits", at: start) }
        if intDigits > 1 && bytes[intStart] == UInt8(ascii: "0") {
            throw located(path, "number \(text(start..<pos)) has a leading zero; write it without (JSON has no octal)", at: start)
        }
        if peek(UInt8(ascii: ".")) {
            pos += 1
            guard digits() > 0 else {
                throw located(path, "number \(text(start..<pos)) needs digits after the decimal point (e.g. \(text(start..<pos))0)", at: start)
            }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            pos += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { pos += 1 }
            guard digits() > 0 else { throw located(path, "number \(text(start..<pos)) needs digits in its exponent", at: start) }
        }
        let t = text(start..<pos)
        guard let d = Double(t), d.isFinite else {
            throw located(path, "number \(t) is out of range (beyond ±1.8e308, the largest a double holds)", at: start)
        }
        return d
    }

    private mutating func string() throws -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw syntax("string is not closed (missing '\"')", at: start) }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c < 0x20 { throw syntax("control character \(describe(c)) inside a string; escape it (e.g. \\n)", at: pos) }
            if c == UInt8(ascii: "\\") { try escape(into: &out); continue }
            out.append(c)
            pos += 1
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw syntax("string is not valid UTF-8", at: start)
        }
        return s
    }

    private mutating func escape(into out: inout [UInt8]) throws {
        let at = pos
        pos += 1
        guard pos < bytes.count else { throw syntax("string ends inside an escape", at: at) }
        let c = bytes[pos]
        pos += 1
        let simple: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]
        if let s = simple[c] { out.append(s); return }
        guard c == UInt8(ascii: "u") else { throw syntax("unknown escape \\\(describe(c))", at: at) }
        var scalar = try hex4(at: at)
        if (0xD800..<0xDC00).contains(scalar) {
            guard bytes.count >= pos + 6, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                throw syntax("unpaired surrogate \\u\(String(scalar, radix: 16))", at: at)
            }
            pos += 2
            let low = try hex4(at: at)
            guard (0xDC00..<0xE000).contains(low) else { throw syntax("unpaired surrogate \\u\(String(scalar, radix: 16))", at: at) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let u = Unicode.Scalar(scalar) else { throw syntax("\\u\(String(scalar, radix: 16)) is not a character", at: at) }
        out.append(contentsOf: Array(String(Character(u)).utf8))
    }

    private mutating func hex4(at: Int) throws -> UInt32 {
        guard pos + 4 <= bytes.count, let v = UInt32(text(pos..<(pos + 4)), radix: 16) else {
            throw syntax("\\u needs four hex digits", at: at)
        }
        pos += 4
        return v
    }

    // MARK: helpers

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard bytes.count >= pos + w.count, Array(bytes[pos..<(pos + w.count)]) == w else {
            throw syntax("unexpected text; expected \(word) (JSON words are lower case and unquoted strings are not allowed)", at: pos)
        }
        pos += w.count
    }

    private mutating func expect(_ c: UInt8, _ message: String) throws {
        guard peek(c) else {
            throw syntax(pos < bytes.count ? "\(message), found \(describe(bytes[pos]))" : "\(message), found the end of the text", at: pos)
        }
        pos += 1
    }

    private func peek(_ c: UInt8) -> Bool { pos < bytes.count && bytes[pos] == c }

    private mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[pos]) { pos += 1 }
    }

    private func text(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }

    private func describe(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? "'\(Character(Unicode.Scalar(c)))'" : "byte 0x" + String(c, radix: 16, uppercase: true)
    }

    /// "line L, column C" of byte offset `at` (1-based, counting bytes).
    private func location(_ at: Int) -> String {
        var line = 1, col = 1
        for b in bytes[..<min(at, bytes.count)] { if b == 0x0A { line += 1; col = 1 } else { col += 1 } }
        return "line \(line), column \(col)"
    }

    /// Malformed text: keeps the "is not valid JSON" wording users and tests know.
    private func syntax(_ message: String, at: Int) -> SpecError {
        SpecError(path: source, message: "is not valid JSON: \(message) at \(location(at)); check for missing commas, quotes or brackets")
    }

    /// Well-formed text with a bad value: names the JSON path inside the document.
    private func located(_ path: String, _ message: String, at: Int) -> SpecError {
        SpecError(path: "\(source): \(path.isEmpty ? "(root)" : path)", message: "\(message) (\(location(at)))")
    }
}
