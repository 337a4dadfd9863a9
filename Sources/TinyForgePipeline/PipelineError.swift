/// Bad input to a pipeline, named with the field or file and the fix.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    /// The proxy evaluation ranks by validation accuracy, so it needs a validation split.
    case emptyValidationSplit(dataset: String, trainImages: Int)
    /// The finish step trains on the whole training split; `--subset` is for proxy training.
    case finishSubset
    /// `--top` must name at least one member.
    case finishTop(Int)
    /// The device check runs at least one sample.
    case samples(Int)
    /// `--patch` on an export TFLM runs: only the TinyForge C library executes patch plans.
    case patchNeedsC(format: String)
    /// `--kd-views` outside 0...max, or > 0 without a teacher, without augmentation, or with a
    /// raw .npy (whose logits are of the clean images); `--kd-view-seed` without views; a run
    /// whose members have several input resolutions (views are drawn at one).
    case kdViews(String)

    public var description: String {
        switch self {
        case let .emptyValidationSplit(dataset, n):
            return "the validation split of \(dataset) is empty (\(n) training images); raise --val-fraction or use more data"
        case .finishSubset:
            return "--subset: finish trains on the full training split; drop --subset (it is for proxy training)"
        case .finishTop(let k):
            return "--top: \(k) must be at least 1 (the number of front members to finish)"
        case .samples(let n):
            return "--samples must be ≥ 1, got \(n)"
        case .kdViews(let reason):
            return "--kd-views: \(reason)"
        case .patchNeedsC(let f):
            return "--patch with --format \(f): only the TinyForge C library runs patch plans (TFLM and LiteRT run layer by layer); use --format c or drop --patch"
        }
    }
}
