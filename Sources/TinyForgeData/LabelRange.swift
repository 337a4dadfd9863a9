/// The label check of user label files (IDX, NPY), whose class count is not fixed by the
/// format: a label ≥ the network's class count is an error naming file, index and label,
/// instead of silently widening 10 classes to 201 because one label byte reads 200.
enum LabelRange {
    static func check(_ labels: [Int32], classCount: Int, file: String) throws {
        if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw DataError.labelOutOfRange(file: file, index: i, label: Int(labels[i]), classCount: classCount)
        }
    }
}
