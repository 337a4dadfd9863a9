import TinyForgeData

/// Which pictures cached teacher logits are of: the clean training images (K = 0), or K fixed
/// augmented views of each (`AugmentViews`: the student's augmentation, a view seed). Part of
/// a cache's key: logits of another setting would pair each student view with the soft target
/// of a different picture, so another setting is a miss (or, named explicitly, an error).
public struct TeacherLogitsViews: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The augmentation as `--augment` spells it ("none" for clean logits).
    public var augmentation: String
    /// K; 0 = the clean images.
    public var count: Int
    public var seed: UInt64

    public static let clean = TeacherLogitsViews(augmentation: "none", count: 0, seed: 0)

    public init(augmentation: String, count: Int, seed: UInt64) {
        self.augmentation = augmentation; self.count = count; self.seed = seed
    }

    public init(_ views: AugmentViews?) {
        guard let v = views else { self = .clean; return }
        self.init(augmentation: v.config.description, count: v.count, seed: v.seed)
    }

    public var isClean: Bool { count == 0 }

    /// The logits' shape for `rows` images: N×C for clean logits, K×N×C (view-major) with views.
    public func logitsShape(rows: Int, classes: Int) -> [Int] {
        isClean ? [rows, classes] : [count, rows, classes]
    }

    /// What the logits are of, for progress lines: "clean images" / "4 augmented views, crop=2,flip".
    public var label: String { isClean ? "clean images" : "\(count) augmented views, \(augmentation)" }

    public var description: String {
        isClean ? "clean images" : "\(count) augmented view\(count == 1 ? "" : "s"), \(augmentation), view seed \(seed)"
    }

    /// The student flags that select this setting (for error messages).
    public var flags: String {
        isClean ? "--kd-views 0" : "--augment \(augmentation) --kd-views \(count) --kd-view-seed \(seed)"
    }

    /// Appended to the cache's file stem; empty for clean logits, so caches written before
    /// views existed keep their name and still hit.
    var stemSuffix: String {
        guard !isClean else { return "" }
        let tag = augmentation.replacingOccurrences(of: "=", with: "").replacingOccurrences(of: ",", with: "-")
        return "-views\(count)-seed\(seed)-\(tag)"
    }
}
