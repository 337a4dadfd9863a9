import TinyForgeData
import TinyForgeTraining

/// `--kd-views K [--kd-view-seed S]` of `train` and `finish`, checked before any teacher
/// inference: the views the student distils against (K fixed augmented views of each image,
/// of the student's own augmentation), or nil for the clean images.
public enum KDViewsOption {
    /// - Parameters: `hasTeacher`: a `--teacher`/`--teacher-logits` was given; `rawNPY`: the
    ///   teacher is a raw .npy (clean logits of the full training set); `height`×`width`: the
    ///   student's network input, where the views are drawn.
    public static func views(count: Int, seed: UInt64?, augment: AugmentConfig, hasTeacher: Bool, rawNPY: Bool,
                             height: Int, width: Int) throws -> AugmentViews? {
        guard count != 0 else {
            if let s = seed { throw PipelineError.kdViews("--kd-view-seed \(s) needs --kd-views K > 0 (views to draw)") }
            return nil
        }
        guard (1...AugmentViews.maxCount).contains(count) else {
            throw PipelineError.kdViews("\(count) is outside 0...\(AugmentViews.maxCount) (0 = the teacher's logits of the clean images)")
        }
        guard hasTeacher else {
            throw PipelineError.kdViews("\(count) views need a teacher; add --teacher DIR (or --teacher-logits a views manifest), or drop --kd-views")
        }
        guard !augment.isIdentity else {
            throw PipelineError.kdViews("\(count) views of the student's augmentation, but --augment is none; set --augment (e.g. digits or crop=2,flip) or use --kd-views 0")
        }
        guard !rawNPY else {
            throw PipelineError.kdViews("a --teacher-logits .npy holds logits of the clean images; use --kd-views 0 with it, or --teacher DIR so the views' logits are computed")
        }
        return try AugmentViews(config: augment, count: count, seed: seed ?? 0, height: height, width: width)
    }

    /// The `TrainConfig.kdViews` of `views`.
    public static func config(_ views: AugmentViews?) -> KDViewsConfig? {
        views.map { KDViewsConfig(count: $0.count, seed: $0.seed) }
    }

    /// The one input side of a run's networks (views are drawn at one geometry); throws when
    /// its search space has several resolutions.
    public static func side(resolutions: [Int]) throws -> Int {
        guard resolutions.count == 1, let r = resolutions.first else {
            throw PipelineError.kdViews("the run's space has input resolutions \(resolutions); views are drawn at one input size — use --kd-views 0 for this run")
        }
        return r
    }
}
