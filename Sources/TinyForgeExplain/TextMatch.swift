import Foundation

/// A regex hit inside one clause, positions in UTF-16 units of the lowercased clause.
struct TextMatch {
    var start: Int
    var end: Int
    var text: String
    /// Capture groups (nil when a group did not take part).
    var groups: [String?]
}

/// Small NSRegularExpression wrapper: the claim grammar is a list of patterns, so compiling
/// and matching must be one line each. Patterns are constants; a bad one is a programming
/// error caught by the tests.
struct Pattern {
    let regex: NSRegularExpression

    init(_ pattern: String) {
        regex = try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
    }

    func matches(_ s: String) -> [TextMatch] {
        let ns = s as NSString
        return regex.matches(in: s, range: NSRange(location: 0, length: ns.length)).map { m in
            let groups: [String?] = (0..<m.numberOfRanges).dropFirst().map { i in
                let r = m.range(at: i)
                return r.location == NSNotFound ? nil : ns.substring(with: r)
            }
            return TextMatch(start: m.range.location, end: m.range.location + m.range.length,
                             text: ns.substring(with: m.range), groups: groups)
        }
    }

    func firstMatch(_ s: String) -> TextMatch? { matches(s).first }
}

/// Number words LLMs write instead of digits.
let numberWords: [String: Int] = [
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "single": 1, "a single": 1,
]
let numberWordPattern = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"

func parseCount(_ s: String) -> Int? {
    let t = s.lowercased().trimmingCharacters(in: .whitespaces)
    return Int(t) ?? numberWords[t]
}

let ordinals: [String: Int] = [
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8,
]
let ordinalPattern = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|1st|2nd|3rd|[4-8]th"

/// Splits text into clauses: sentences (a dot followed by space, so "0.25" stays whole),
/// semicolons, line breaks, list bullets, and contrastive joints ("while", "whereas", "but")
/// whose two sides usually talk about different stages or directions.
func splitClauses(_ text: String) -> [String] {
    let sentence = Pattern(#"(?<=[.!?;:])\s+|\n+|^\s*[-*•]\s+|\s+(?:while|whereas|but|although)\s+|,\s*(?:while|whereas|but)\s+"#)
    var out: [String] = []
    let ns = text as NSString
    var last = 0
    for m in sentence.matches(text) {
        out.append(ns.substring(with: NSRange(location: last, length: m.start - last)))
        last = m.end
    }
    out.append(ns.substring(from: last))
    return out.map { $0.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "-*•"))) }
        .filter { $0.count > 2 }
}
