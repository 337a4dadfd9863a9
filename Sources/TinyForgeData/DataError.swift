import Foundation

/// Everything that can go wrong while reading or preparing a dataset.
///
/// Every case names the file (or the option) it is about and, where it makes sense, what was
/// expected and what was found, so a user can tell a truncated download from a wrong path or a
/// wrong format without a debugger. Loaders never trap on bad input: they throw one of these.
public enum DataError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file does not exist or cannot be read.
    case fileNotFound(path: String, hint: String)
    /// The file (after gunzip, for `.gz`) holds fewer or more bytes than its header promises.
    case sizeMismatch(file: String, expectedBytes: Int, foundBytes: Int, what: String)
    /// The first bytes are not the magic number of the expected format.
    case badMagic(file: String, expected: String, found: String)
    /// A gzip stream is corrupt or ends before its end-of-stream marker.
    case gzip(file: String, reason: String)
    /// The header parsed but describes something this loader does not support.
    case unsupported(file: String, reason: String)
    /// Images and labels disagree (count, shape) or a label is out of range.
    case inconsistent(file: String, reason: String)
    /// An `.npy` header that cannot be parsed.
    case badNPYHeader(file: String, reason: String)
    /// A dataset option (CLI string, fraction, size) is invalid.
    case invalidOption(option: String, reason: String)
    /// The split has no test set (e.g. a single `.npy` pair was given).
    case noTestSet(source: String, hint: String)
    /// A label file holds a class the network does not have (`classCount` is the network's
    /// num_classes, or `--classes`); formats with a fixed class count use `inconsistent`.
    case labelOutOfRange(file: String, index: Int, label: Int, classCount: Int)
    /// Loading would need more memory than the machine has (or `--max-memory` allows).
    case tooLarge(option: String, bytes: Int, limit: MemoryLimit, fix: String)
    /// An image folder's layout is unusable (no class folders, an empty class, one class,
    /// mixed image sizes, a symlink loop); `path` is the folder or file concerned.
    case imageFolder(path: String, reason: String)
    /// Images that could not be decoded, every one with its reason, listed together so one run
    /// shows all of them (skipped instead with `--skip-bad-images`).
    case badImages(folder: String, failures: [ImageFailure])
    /// Images given one by one (e.g. to `tinyforge predict`) that could not be decoded.
    case unreadableImages(failures: [ImageFailure])

    public var description: String {
        switch self {
        case let .fileNotFound(path, hint):
            return "\(path): file not found or unreadable. \(hint)"
        case let .sizeMismatch(file, expected, found, what):
            return "\(file): \(what): expected \(expected) bytes, found \(found) bytes "
                + (found < expected ? "(file is truncated; download it again)" : "(trailing data; wrong or corrupt file)")
        case let .badMagic(file, expected, found):
            return "\(file): bad magic number: expected \(expected), found \(found) (not the expected file format)"
        case let .gzip(file, reason):
            return "\(file): gzip: \(reason)"
        case let .unsupported(file, reason):
            return "\(file): unsupported: \(reason)"
        case let .inconsistent(file, reason):
            return "\(file): \(reason)"
        case let .badNPYHeader(file, reason):
            return "\(file): bad .npy header: \(reason)"
        case let .invalidOption(option, reason):
            return "dataset option '\(option)': \(reason)"
        case let .noTestSet(source, hint):
            return "\(source): no test set was loaded. \(hint)"
        case let .labelOutOfRange(file, index, label, classes):
            return "\(file): label \(label) at index \(index) is outside 0..<\(classes) (the network's classes); fix the label file, or if the data really has \(label + 1) or more classes pass --classes \(label + 1)"
        case let .tooLarge(option, bytes, limit, fix):
            return "\(option): needs \(MemoryLimit.format(bytes)) in memory but \(limit) are available; \(fix)"
        case let .imageFolder(path, reason):
            return "\(path): \(reason)"
        case let .badImages(folder, failures):
            let shown = failures.prefix(50).map { "  \($0)" }.joined(separator: "\n")
            let more = failures.count > 50 ? "\n  ... and \(failures.count - 50) more" : ""
            return "\(folder): \(failures.count) image(s) cannot be decoded:\n\(shown)\(more)\n"
                + "Fix or delete them, or pass --skip-bad-images (or add ,skip-bad-images to the folder: source) to leave them out."
        case let .unreadableImages(failures):
            return "\(failures.count) image(s) cannot be decoded (PNG or JPEG expected):\n"
                + failures.map { "  \($0)" }.joined(separator: "\n")
        }
    }

    public var errorDescription: String? { description }
}

/// Formats a byte sequence as hex for error messages (`0x00000803`).
func hexString(_ bytes: ArraySlice<UInt8>) -> String {
    "0x" + bytes.map { String(format: "%02X", $0) }.joined()
}
