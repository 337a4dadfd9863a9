/// Sizes computed from numbers a file claims (IDX dimensions, an NPY shape) are multiplied with
/// overflow checks: a corrupt header such as 2³² × 2³² × 2³² otherwise traps (checked builds)
/// or wraps to a small, wrong size (`-Ounchecked` release builds) before the size check that
/// would have rejected the file.
enum CheckedSize {
    /// The product of `factors`, or nil when it does not fit in an `Int` or a factor is negative.
    static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, overflow) = p.multipliedReportingOverflow(by: f)
            if overflow { return nil }
            p = r
        }
        return p
    }

    /// `a + b`, or nil on overflow.
    static func sum(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : r
    }
}
