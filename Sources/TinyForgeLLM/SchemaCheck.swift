import Foundation
import TinyForgeSpec

/// Checks a JSON value against the subset of JSON schema that `CandidateFormat.schema` uses
/// (type, enum, properties, required, additionalProperties: false, items, prefixItems,
/// minItems, maxItems, pattern). Servers may silently fall back to "any JSON" when they cannot
/// compile a schema, so replies are checked on the client; this also measures how often a
/// model's replies follow the schema.
public enum SchemaCheck {
    /// Every violation with its path (empty = valid).
    public static func violations(_ value: JSONValue, schema: JSONValue, path: String = "$") -> [String] {
        guard case .object(let s) = schema else { return [] }
        var out: [String] = []
        if case .array(let allowed)? = s["enum"], !allowed.contains(value) {
            out.append("\(path): \(value.canonicalText().prefix(40)) is not one of \(allowed.map { $0.canonicalText() }.joined(separator: ", "))")
            return out
        }
        if case .string(let t)? = s["type"], !matchesType(value, t) {
            out.append("\(path): expected \(t), found \(value.typeName)")
            return out
        }
        switch value {
        case .object(let o):
            let props: [String: JSONValue]
            if case .object(let p)? = s["properties"] { props = p } else { props = [:] }
            if case .array(let req)? = s["required"] {
                for case .string(let k) in req where o[k] == nil { out.append("\(path).\(k): is required") }
            }
            if s["additionalProperties"] == .bool(false) {
                for k in o.keys.sorted() where props[k] == nil { out.append("\(path).\(k): is not allowed") }
            }
            for k in o.keys.sorted() { if let ps = props[k] { out += violations(o[k]!, schema: ps, path: "\(path).\(k)") } }
        case .array(let a):
            if case .number(let n)? = s["minItems"], Double(a.count) < n { out.append("\(path): \(a.count) items, at least \(Int(n)) required") }
            if case .number(let n)? = s["maxItems"], Double(a.count) > n { out.append("\(path): \(a.count) items, at most \(Int(n)) allowed") }
            var prefix: [JSONValue] = []
            if case .array(let p)? = s["prefixItems"] { prefix = p }
            for (i, v) in a.enumerated() {
                if i < prefix.count { out += violations(v, schema: prefix[i], path: "\(path)[\(i)]") }
                else if let items = s["items"] { out += violations(v, schema: items, path: "\(path)[\(i)]") }
            }
        case .string(let str):
            if case .string(let p)? = s["pattern"] {
                if let re = try? NSRegularExpression(pattern: p),
                   re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil {
                    out.append("\(path): \"\(str.prefix(40))\" does not match \(p)")
                }
            }
        default: break
        }
        return out
    }

    static func matchesType(_ v: JSONValue, _ t: String) -> Bool {
        switch (t, v) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number): return true
        case ("integer", .number(let d)): return d == d.rounded()
        default: return false
        }
    }
}
