/// Reads one JSON object field by field, remembering the path, collecting every error and
/// rejecting keys it was never asked for. Shared by the architecture, paper-format and
/// search-space decoders so all of them report errors the same way.
final class FieldReader {
    let path: String
    private let object: [String: JSONValue]
    private var used: Set<String> = []
    private(set) var errors: [SpecError]
    /// False when the value was not a JSON object (the error is already recorded).
    let isObject: Bool

    init(_ value: JSONValue, path: String, errors: inout [SpecError]) {
        self.path = path
        self.errors = []
        if case .object(let o) = value {
            object = o
            isObject = true
        } else {
            object = [:]
            isObject = false
            self.errors.append(SpecError(path: path.isEmpty ? "(root)" : path,
                                         message: "expected an object, found \(value.typeName)"))
        }
    }

    func sub(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { object[key] != nil && object[key] != .null }

    func raw(_ key: String) -> JSONValue? {
        used.insert(key)
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    func fail(_ key: String, _ message: String) {
        errors.append(SpecError(path: sub(key), message: message))
    }

    /// An integer within `range`, or the default when absent (nil default = required).
    func int(_ key: String, default def: Int? = nil, range: ClosedRange<Int>, hint: String = "") -> Int {
        guard let v = raw(key) else {
            if let d = def { return d }
            fail(key, "is required" + (hint.isEmpty ? "" : " (\(hint))")); return range.lowerBound
        }
        guard case .number(let d) = v else {
            fail(key, "expected an integer, found \(v.typeName)"); return def ?? range.lowerBound
        }
        guard d.isFinite, d == d.rounded() else {
            fail(key, "\(JSONValue.formatNumber(d)) is not an integer"); return def ?? range.lowerBound
        }
        guard d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            fail(key, "\(JSONValue.formatNumber(d)) is out of range; allowed \(range.lowerBound)...\(range.upperBound)"
                 + (hint.isEmpty ? "" : " (\(hint))"))
            return def ?? range.lowerBound
        }
        return Int(d)
    }

    /// An integer that must be one of `allowed`.
    func int(_ key: String, default def: Int? = nil, oneOf allowed: [Int]) -> Int {
        let lo = allowed.min() ?? 0, hi = allowed.max() ?? 0
        let before = errors.count
        let v = int(key, default: def, range: Int.min / 2...Int.max / 2)
        guard errors.count == before else { return def ?? lo }
        if !allowed.contains(v) {
            fail(key, "\(v) is not one of \(allowed.map(String.init).joined(separator: ", "))")
            return def ?? min(max(v, lo), hi)
        }
        return v
    }

    func double(_ key: String, default def: Double? = nil, range: ClosedRange<Double>) -> Double {
        guard let v = raw(key) else {
            if let d = def { return d }
            fail(key, "is required"); return range.lowerBound
        }
        guard case .number(let d) = v, d.isFinite else {
            fail(key, "expected a number, found \(v.typeName)"); return def ?? range.lowerBound
        }
        guard range.contains(d) else {
            fail(key, "\(JSONValue.formatNumber(d)) is out of range; allowed \(range.lowerBound)...\(range.upperBound)")
            return def ?? range.lowerBound
        }
        return d
    }

    func bool(_ key: String, default def: Bool?) -> Bool? {
        guard let v = raw(key) else { return def }
        guard case .bool(let b) = v else { fail(key, "expected true or false, found \(v.typeName)"); return def }
        return b
    }

    func string(_ key: String, default def: String? = nil) -> String? {
        guard let v = raw(key) else { return def }
        guard case .string(let s) = v else { fail(key, "expected a string, found \(v.typeName)"); return def }
        return s
    }

    /// A string that maps to an enum case; the error lists every allowed spelling.
    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, default def: E?,
                                                    aliases: [String: E] = [:]) -> E where E.RawValue == String {
        let all = E.allCases.map(\.rawValue)
        guard let s = string(key) else {
            if let d = def { return d }
            if !has(key) { fail(key, "is required; one of \(all.joined(separator: ", "))") }
            return E.allCases.first!
        }
        let norm = s.lowercased()
        if let e = E(rawValue: norm) ?? aliases[norm] { return e }
        fail(key, "\"\(s)\" is not one of \(all.joined(separator: ", "))")
        return def ?? E.allCases.first!
    }

    func array(_ key: String, required: Bool = true) -> [JSONValue]? {
        guard let v = raw(key) else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .array(let a) = v else { fail(key, "expected an array, found \(v.typeName)"); return nil }
        return a
    }

    /// Call last: every key the decoder did not read is reported, with the nearest known key.
    func finish(into errors: inout [SpecError]) {
        for k in object.keys.sorted() where !used.contains(k) {
            let known = used.sorted()
            let near = known.min { editDistance($0, k) < editDistance($1, k) }
            var msg = "unknown key"
            if let n = near, editDistance(n, k) <= max(2, k.count / 3) { msg += "; did you mean \"\(n)\"?" }
            else if !known.isEmpty { msg += "; allowed keys: \(known.joined(separator: ", "))" }
            self.errors.append(SpecError(path: sub(k), message: msg))
        }
        errors.append(contentsOf: self.errors)
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count), cur = prev
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}
