import TinyForgeSpec

/// Class names in a checkpoint: metadata entry `labels`, a JSON array of strings in label
/// order, so `export` and `predict` can name classes without the dataset at hand.
extension Checkpoint {
    public static let labelsKey = "labels"

    /// The metadata value for `names` (a JSON array).
    public static func labelsMetadata(_ names: [String]) -> String {
        JSONValue.array(names.map { .string($0) }).canonicalText()
    }

    /// The class names stored in `metadata`, nil when absent (older checkpoints, datasets
    /// without names). A present but malformed entry is an error naming the file.
    public static func labels(_ metadata: [String: String], file: String) throws -> [String]? {
        guard let text = metadata[labelsKey] else { return nil }
        guard case .array(let a) = try JSONValue.parse(text, source: "\(file) metadata.labels") else {
            throw TrainingError.checkpoint(file: file, reason: "metadata.labels is not a JSON array of class names")
        }
        return try a.map { v in
            guard case .string(let s) = v else {
                throw TrainingError.checkpoint(file: file, reason: "metadata.labels holds a non-string entry")
            }
            return s
        }
    }
}
