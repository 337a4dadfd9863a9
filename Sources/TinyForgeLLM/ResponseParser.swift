import Foundation
import TinyForgeSpec

/// JSON found in an LLM reply, with a list of what had to be repaired to get it.
public struct ParsedReply: Sendable {
    /// The JSON document after repairs.
    public var value: JSONValue
    /// The proposed items: the elements of `{"candidates": [...]}`, of a top-level array, or a
    /// single architecture object. Not yet checked: `CandidateDecoder` does that.
    public var candidates: [JSONValue]
    /// Human-readable repairs, e.g. "removed 2 trailing commas" (empty = the reply was clean JSON).
    public var repairs: [String]
    /// The reply was cut off; `candidates` holds only the complete items before the cut.
    public var truncated: Bool
}

/// Why no JSON could be taken from a reply. `feedback` is phrased for the LLM (sent back in
/// a retry); `message` for logs and users.
public struct ReplyParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable { case empty, tooLarge = "too_large", noJSON = "no_json", truncated, invalid, wrongShape = "wrong_shape" }
    public var kind: Kind
    public var message: String
    public var feedback: String
    public var description: String { "reply \(kind.rawValue): \(message)" }
}

/// Takes JSON out of what LLMs actually return: code fences, prose before and after, trailing
/// commas, raw newlines inside strings, output cut off by the token limit, empty or enormous
/// replies. Never guesses values: a repair only changes punctuation, and a truncated reply
/// keeps only items that were complete.
public struct ResponseParser: Sendable {
    /// Replies longer than this are refused (a runaway generation, not an answer).
    public var maxChars: Int
    public init(maxChars: Int = 262_144) { self.maxChars = maxChars }

    /// The proposed items of a reply. `cutOff` = the server reported finish_reason "length".
    public func parseCandidates(_ text: String, cutOff: Bool = false) throws -> ParsedReply {
        var r = try extractJSON(text, cutOff: cutOff)
        var note: String?
        switch r.value {
        case .array(let a): r.candidates = a
        case .object(let o):
            if case .array(let a)? = o["candidates"] { r.candidates = a }
            else if o["stages"] != nil { r.candidates = [r.value]; note = "read a single architecture object as one candidate" }
            else {
                let arrays = o.filter { if case .array(let a) = $0.value { return a.contains { if case .object = $0 { return true }; return false } }; return false }
                guard arrays.count == 1, case .array(let a) = arrays.first!.value else {
                    throw ReplyParseError(kind: .wrongShape,
                        message: "JSON object with keys \(o.keys.sorted().joined(separator: ", ")) has no \"candidates\" array",
                        feedback: "Your JSON had no \"candidates\" array. Reply with {\"candidates\": [ ... ]}.")
                }
                r.candidates = a; note = "read candidates from key \"\(arrays.first!.key)\""
            }
        default:
            throw ReplyParseError(kind: .wrongShape, message: "the JSON is \(r.value.typeName), not an object with \"candidates\"",
                                  feedback: "Reply with one JSON object {\"candidates\": [ ... ]}, nothing else.")
        }
        if let n = note { r.repairs.append(n) }
        if r.candidates.isEmpty {
            throw ReplyParseError(kind: .wrongShape, message: "the \"candidates\" array is empty",
                                  feedback: "Your \"candidates\" array was empty. Propose the requested number of architectures.")
        }
        return r
    }

    /// The JSON document in `text` (see the type's doc for what is repaired).
    public func extractJSON(_ text: String, cutOff: Bool = false) throws -> ParsedReply {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            throw ReplyParseError(kind: .empty, message: "the reply is empty" + (cutOff ? " (token limit reached)" : ""),
                                  feedback: "Your reply was empty. Reply with one JSON object {\"candidates\": [ ... ]}.")
        }
        if trimmed.utf8.count > maxChars {
            throw ReplyParseError(kind: .tooLarge, message: "the reply has \(trimmed.utf8.count) bytes, more than the \(maxChars) allowed",
                                  feedback: "Your reply was far too long. Reply with only the JSON object and short rationales.")
        }
        if let v = try? JSONValue.parse(trimmed) {
            return ParsedReply(value: v, candidates: [], repairs: [], truncated: false)
        }
        let bytes = Array(trimmed.utf8)
        var repairs: [String] = []
        // 1. Code fences: the content of each ``` block, in order.
        var regions: [(ArraySlice<UInt8>, String)] = []
        for block in Self.fencedBlocks(bytes) { regions.append((block, "took the JSON out of a code fence")) }
        regions.append((bytes[...], ""))
        var truncatedSeen: (chars: Int, depth: Int)?
        for (region, note) in regions {
            // 2. Each opening bracket in turn (prose may contain stray brackets before the JSON).
            var tries = 0
            var i = region.startIndex
            while i < region.endIndex, tries < 20 {
                guard region[i] == UInt8(ascii: "{") || region[i] == UInt8(ascii: "[") else { i += 1; continue }
                tries += 1
                let scan = JSONScan(region, from: i)
                if let end = scan.end {
                    var rep: [String] = note.isEmpty ? [] : [note]
                    // Only a reply-shaped value counts: prose like "see [1]" is JSON too.
                    if let v = Self.repairAndParse(region[i...end], &rep), Self.looksLikeReply(v) {
                        let before = region[region.startIndex..<i].count, after = region[(end + 1)...].count
                        if note.isEmpty && before + after > 0 {
                            rep.append("ignored \(before) characters before and \(after) after the JSON")
                        }
                        repairs += rep
                        return ParsedReply(value: v, candidates: [], repairs: repairs, truncated: false)
                    }
                } else {
                    // 3. Cut off: keep the complete items of the candidates array.
                    if let v = Self.salvage(region, from: i, scan: scan) {
                        repairs += (note.isEmpty ? [] : [note]) + ["the reply was cut off after \(region[i...].count) characters; kept \(v.kept) complete candidate(s)"]
                        return ParsedReply(value: v.value, candidates: [], repairs: repairs, truncated: true)
                    }
                    // Every later opener is nested in this cut-off structure: salvaging or
                    // parsing one of them would return a fragment as if it were the reply.
                    truncatedSeen = truncatedSeen ?? (region[i...].count, scan.openStack.count)
                    break
                }
                i += 1
            }
        }
        if let t = truncatedSeen {
            throw ReplyParseError(kind: .truncated,
                message: "the JSON is cut off after \(t.chars) characters (\(t.depth) bracket(s) still open)\(cutOff ? ", the token limit was reached" : "") before any complete candidate",
                feedback: "Your reply was cut off before the JSON was complete. Keep each rationale to one short sentence.")
        }
        let hasBracket = bytes.contains(UInt8(ascii: "{")) || bytes.contains(UInt8(ascii: "["))
        throw ReplyParseError(kind: hasBracket ? .invalid : .noJSON,
            message: hasBracket ? "no parsable JSON found (\(bytes.count) characters starting \"\(String(trimmed.prefix(60)))\")"
                                : "the reply contains no JSON object (\(bytes.count) characters starting \"\(String(trimmed.prefix(60)))\")",
            feedback: "Your reply was not valid JSON. Reply with only one JSON object {\"candidates\": [ ... ]}: double quotes, no comments, no text around it.")
    }

    static func looksLikeReply(_ v: JSONValue) -> Bool {
        switch v {
        case .object: return true
        case .array(let a): return a.contains { if case .object = $0 { return true }; return false }
        default: return false
        }
    }

    /// Contents of ``` blocks (the language tag line removed); an unclosed last block runs to the end.
    static func fencedBlocks(_ b: [UInt8]) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        let tick = UInt8(ascii: "`")
        var i = 0
        func fenceAt(_ j: Int) -> Bool { j + 2 < b.count && b[j] == tick && b[j + 1] == tick && b[j + 2] == tick }
        while i < b.count {
            guard fenceAt(i) else { i += 1; continue }
            var start = i + 3
            while start < b.count && b[start] != UInt8(ascii: "\n") && b[start] != UInt8(ascii: "{") && b[start] != UInt8(ascii: "[") { start += 1 }
            var end = start
            while end < b.count && !fenceAt(end) { end += 1 }
            out.append(b[min(start, b.count)..<end])
            i = end + 3
        }
        return out
    }

    /// Punctuation repairs only: trailing commas before `}`/`]`, raw control characters inside strings.
    static func repairAndParse(_ s: ArraySlice<UInt8>, _ repairs: inout [String]) -> JSONValue? {
        if let v = try? JSONValue.parse(Data(s)) { return v }
        var out: [UInt8] = []; out.reserveCapacity(s.count + 16)
        var inString = false, escape = false, commas = 0, controls = 0
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if inString {
                if escape { escape = false; out.append(c) }
                else if c == UInt8(ascii: "\\") { escape = true; out.append(c) }
                else if c == UInt8(ascii: "\"") { inString = false; out.append(c) }
                else if c < 0x20 {
                    controls += 1
                    out += c == 0x0A ? Array("\\n".utf8) : c == 0x09 ? Array("\\t".utf8) : c == 0x0D ? Array("\\r".utf8) : []
                } else { out.append(c) }
            } else if c == UInt8(ascii: "\"") { inString = true; out.append(c) }
            else if c == UInt8(ascii: ",") {
                var j = i + 1
                while j < s.endIndex, [0x20, 0x0A, 0x0D, 0x09].contains(s[j]) { j += 1 }
                if j < s.endIndex, s[j] == UInt8(ascii: "}") || s[j] == UInt8(ascii: "]") { commas += 1 } else { out.append(c) }
            } else { out.append(c) }
            i += 1
        }
        guard commas + controls > 0, let v = try? JSONValue.parse(Data(out)) else { return nil }
        if commas > 0 { repairs.append("removed \(commas) trailing comma(s)") }
        if controls > 0 { repairs.append("escaped \(controls) raw control character(s) inside strings") }
        return v
    }

    /// A cut-off reply closed right after its last complete candidate: only cuts that leave
    /// the top-level array (`[…`) or the `candidates` array (`{"candidates": […`) open are
    /// used, so no candidate is ever kept half-written.
    static func salvage(_ region: ArraySlice<UInt8>, from start: Int, scan: JSONScan) -> (value: JSONValue, kept: Int)? {
        for cut in scan.closers.reversed().prefix(400) {
            let open = cut.openAfter
            let ok = open == [UInt8(ascii: "[")] || open == [UInt8(ascii: "{"), UInt8(ascii: "[")]
            guard ok else { continue }
            var text = Array(region[start...cut.index])
            for o in open.reversed() { text.append(o == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) }
            var rep: [String] = []
            guard let v = repairAndParse(text[...], &rep) else { continue }
            switch v {
            case .array(let a) where open.count == 1 && !a.isEmpty: return (v, a.count)
            case .object(let o) where open.count == 2:
                if case .array(let a)? = o["candidates"], !a.isEmpty { return (v, a.count) }
            default: break
            }
        }
        return nil
    }
}

/// One pass over JSON text from an opening bracket: where it closes (nil = never: cut off),
/// and after every closing bracket which brackets were still open.
struct JSONScan {
    var end: Int?
    var openStack: [UInt8] = []
    var closers: [(index: Int, openAfter: [UInt8])] = []

    init(_ s: ArraySlice<UInt8>, from start: Int) {
        var inString = false, escape = false
        var i = start
        while i < s.endIndex {
            let c = s[i]
            if inString {
                if escape { escape = false } else if c == UInt8(ascii: "\\") { escape = true } else if c == UInt8(ascii: "\"") { inString = false }
            } else {
                switch c {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): openStack.append(c)
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if !openStack.isEmpty { openStack.removeLast() }
                    if openStack.isEmpty { end = i; return }
                    if openStack.count <= 2 { closers.append((i, openStack)) }
                default: break
                }
            }
            i += 1
        }
    }
}
