/// Errors of the int8 deployment path. Every message names the offending field, tensor or op
/// and says what would make it valid.
public enum DeployError: Error, Equatable, CustomStringConvertible {
    case invalidRange(min: Float, max: Float)
    case shapeMismatch(what: String, expected: [Int], got: [Int])
    case nonFiniteValue(what: String, index: Int)
    case invalidTensorIndex(op: Int, field: String, index: Int, tensorCount: Int)
    case invalidTensor(tensor: String, reason: String)
    case unsupported(op: Int, kind: String, reason: String)
    case inputMismatch(reason: String)
    case invalidFlatBuffer(reason: String)
    /// The quantised model's fused step `step` does not execute the network's `KernelSchedule`.
    case scheduleMismatch(step: Int, kernel: String, reason: String)
    /// A patch stage the int8 model cannot run tile by tile.
    case patchStage(reason: String)

    public var description: String {
        switch self {
        case let .invalidRange(min, max):
            return "activation range [\(min), \(max)] is invalid: min and max must be finite with min <= max"
        case let .shapeMismatch(what, expected, got):
            return "\(what): expected shape/count \(expected), got \(got); fix the producer of \(what)"
        case let .nonFiniteValue(what, index):
            return "\(what)[\(index)] is NaN or infinite; train/calibrate with finite values before quantising"
        case let .invalidTensorIndex(op, field, index, count):
            return "op #\(op) field '\(field)' refers to tensor \(index), but the model has \(count) tensors (valid: 0..<\(count))"
        case let .invalidTensor(tensor, reason):
            return "tensor '\(tensor)': \(reason)"
        case let .unsupported(op, kind, reason):
            return "op #\(op) (\(kind)): \(reason)"
        case let .inputMismatch(reason):
            return "model inputs: \(reason)"
        case let .invalidFlatBuffer(reason):
            return "flatbuffer: \(reason)"
        case let .patchStage(reason):
            return "patch stage: \(reason)"
        case let .scheduleMismatch(step, kernel, reason):
            return "C runtime step #\(step) (\(kernel)): \(reason); the lowering no longer matches the network's KernelSchedule (fix FloatGraph+Plan or DeploySchedule, not the model)"
        }
    }
}
