/// Overflow-checked integer arithmetic that stays on in `-Ounchecked` release builds.
///
/// The numeric targets are compiled with `-Ounchecked`, where `+` and `*` on `Int` wrap
/// silently: a network with 1.1·10²¹ MACs was reported as 617,926,354,010,112. Sizes and
/// totals that come from user input (specs, file headers, CLI options) are computed with these
/// helpers instead; `nil` means "does not fit in Int64" and the caller turns it into an error
/// that names what was too large.
public enum Checked {
    public static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    public static func mul(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    /// Product of all factors; nil on overflow (1 for none).
    public static func product<S: Sequence>(_ factors: S) -> Int? where S.Element == Int {
        var p = 1
        for f in factors { guard let q = mul(p, f) else { return nil }; p = q }
        return p
    }

    /// Sum of all terms; nil on overflow (0 for none).
    public static func sum<S: Sequence>(_ terms: S) -> Int? where S.Element == Int {
        var s = 0
        for t in terms { guard let q = add(s, t) else { return nil }; s = q }
        return s
    }

    /// A total that validation has already proven to fit: a failure here is a bug in that
    /// proof, so it stops with a message (`fatalError` is kept by `-Ounchecked`, unlike
    /// `precondition`) instead of returning a wrapped number.
    public static func total<S: Sequence>(_ terms: S, of what: @autoclosure () -> String) -> Int where S.Element == Int {
        guard let s = sum(terms) else {
            fatalError("\(what()) exceeds Int64; ArchitectureSpec.validate() should have rejected this network")
        }
        return s
    }

    /// `x += v` for a total that validation has proven to fit (see `total(_:of:)`).
    public static func accumulate(_ x: inout Int, _ v: Int, _ what: @autoclosure () -> String) {
        guard let s = add(x, v) else {
            fatalError("\(what()) exceeds Int64; ArchitectureSpec.validate() should have rejected this network")
        }
        x = s
    }
}
