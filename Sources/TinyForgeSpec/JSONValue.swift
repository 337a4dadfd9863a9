import Foundation

/// A parsed JSON document, kept as a plain value so that decoding can report exact field
/// paths (`stages[2].kernel`), reject unknown keys and tell `3` from `3.5` and `true` from `1`.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text strictly (see `StrictJSONParser`: no duplicate keys, no leading zeros,
    /// no `1.`, no numbers beyond a double). Errors say where the text stops being JSON, or
    /// the JSON path of the bad value.
    public static func parse(_ text: String, source: String = "input") throws -> JSONValue {
        guard let data = text.data(using: .utf8) else {
            throw SpecError(path: source, message: "is not UTF-8 text")
        }
        return try parse(data, source: source)
    }

    public static func parse(_ data: Data, source: String = "input") throws -> JSONValue {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw SpecError(path: source, message: "is empty; expected a JSON object such as {\"stages\": [...]}")
        }
        var parser = StrictJSONParser([UInt8](data), source: source)
        return try parser.parseDocument()
    }

    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Compact, key-sorted JSON text: the canonical serialisation used for hashing and storage.
    public func canonicalText() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += JSONValue.formatNumber(d)
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() { if i > 0 { out += "," }; v.write(into: &out) }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(k, into: &out); out += ":"; o[k]!.write(into: &out)
            }
            out += "}"
        }
    }

    /// Integers print without a fraction; other numbers with the shortest round-trip form.
    static func formatNumber(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }

    /// Pretty, key-sorted JSON text for files people read.
    public func prettyText(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .array(let a) where !a.isEmpty:
            if a.allSatisfy({ if case .object = $0 { return false }; if case .array = $0 { return false }; return true }) {
                return canonicalText()
            }
            return "[\n" + a.map { inner + $0.prettyText(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let o) where !o.isEmpty:
            let rows = o.keys.sorted().map { k -> String in
                var key = ""; JSONValue.writeString(k, into: &key)
                return inner + key + ": " + o[k]!.prettyText(indent: inner)
            }
            return "{\n" + rows.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return canonicalText()
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, b in b }))
    }
}
