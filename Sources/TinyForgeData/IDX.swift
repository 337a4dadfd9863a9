import Foundation

/// IDX files (MNIST, Fashion-MNIST, EMNIST...): a 4-byte magic `00 00 TT DD` (TT = element
/// type, 0x08 = unsigned byte; DD = number of dimensions), DD big-endian UInt32 dimensions,
/// then the elements in C order. Plain or gzip-compressed (sniffed, see `FileBytes`).
public enum IDX {
    /// A parsed IDX array of bytes: `dims` and the `product(dims)` values after the header.
    public struct ByteArray: Sendable {
        public let dims: [Int]
        public let values: [UInt8]
    }

    /// Reads an unsigned-byte IDX file and checks its size against its header.
    /// `expectedRank` is 3 for images `(N, H, W)` and 1 for labels `(N)`.
    public static func readBytes(path: String, expectedRank: Int) throws -> ByteArray {
        let bytes = try FileBytes.read(path)
        guard bytes.count >= 4 else {
            throw DataError.sizeMismatch(file: path, expectedBytes: 4, foundBytes: bytes.count, what: "IDX magic number")
        }
        let magicOK = bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08 && Int(bytes[3]) == expectedRank
        guard magicOK else {
            let expected = String(format: "0x000008%02X (unsigned-byte IDX with %d dimensions)", expectedRank, expectedRank)
            if bytes[0] == 0 && bytes[1] == 0 && bytes[2] != 0x08 && [0x09, 0x0B, 0x0C, 0x0D, 0x0E].contains(bytes[2]) {
                throw DataError.unsupported(
                    file: path, reason: "IDX element type \(hexString(bytes[2...2])); only unsigned bytes (0x08) are supported")
            }
            throw DataError.badMagic(file: path, expected: expected, found: hexString(bytes[0..<4]))
        }
        let headerSize = 4 + 4 * expectedRank
        guard bytes.count >= headerSize else {
            throw DataError.sizeMismatch(file: path, expectedBytes: headerSize, foundBytes: bytes.count, what: "IDX header")
        }
        let dims = (0..<expectedRank).map { readBE32(bytes, 4 + 4 * $0) }
        guard let valueCount = CheckedSize.product(dims), let total = CheckedSize.sum(headerSize, valueCount) else {
            throw DataError.inconsistent(
                file: path, reason: "IDX header dimensions \(dims.map(String.init).joined(separator: "x")) describe more values than any file can hold; the header is corrupt")
        }
        guard bytes.count == total else {
            throw DataError.sizeMismatch(
                file: path, expectedBytes: headerSize + valueCount, foundBytes: bytes.count,
                what: "header says dimensions \(dims.map(String.init).joined(separator: "x"))")
        }
        return ByteArray(dims: dims, values: Array(bytes[headerSize...]))
    }

    /// Loads an images file `(N, H, W)` and its labels file `(N)` into a one-channel dataset.
    /// `classCount` defaults to `max(label) + 1`; give it when a split may miss the last class.
    public static func load(images: String, labels: String, classCount: Int? = nil,
                            classNames: [String]? = nil, name: String? = nil) throws -> Dataset {
        let img = try readBytes(path: images, expectedRank: 3)
        let lab = try readBytes(path: labels, expectedRank: 1)
        guard img.dims[0] == lab.dims[0] else {
            throw DataError.inconsistent(
                file: labels, reason: "\(lab.dims[0]) labels but \(images) holds \(img.dims[0]) images")
        }
        let labelValues = lab.values.map { Int32($0) }
        let classes = classCount ?? Int(labelValues.max() ?? 0) + 1
        if let bad = labelValues.firstIndex(where: { Int($0) >= classes }) {
            throw DataError.inconsistent(
                file: labels, reason: "label \(labelValues[bad]) at index \(bad) is outside 0..<\(classes)")
        }
        return try Dataset(name: name ?? images, height: img.dims[1], width: img.dims[2], channels: 1,
                           pixels: .uint8(img.values), labels: labelValues,
                           classCount: classes, classNames: classNames)
    }

    /// Finds `<prefix>-images-idx3-ubyte` / `<prefix>-labels-idx1-ubyte` in `directory`, also with
    /// `.gz`, or with the dot spelling (`train-images.idx3-ubyte`) some mirrors use.
    static func findPair(directory: String, prefix: String) throws -> (images: String, labels: String) {
        func find(_ kind: String, _ rank: Int) throws -> String {
            let stems = ["\(prefix)-\(kind)-idx\(rank)-ubyte", "\(prefix)-\(kind).idx\(rank)-ubyte"]
            for stem in stems {
                for suffix in ["", ".gz"] {
                    let p = (directory as NSString).appendingPathComponent(stem + suffix)
                    if FileBytes.exists(p) { return p }
                }
            }
            throw DataError.fileNotFound(
                path: (directory as NSString).appendingPathComponent(stems[0] + "[.gz]"),
                hint: "Expected the IDX files \(prefix)-images-idx3-ubyte and \(prefix)-labels-idx1-ubyte (plain or .gz) in \(directory).")
        }
        return (try find("images", 3), try find("labels", 1))
    }
}

/// Fashion-MNIST (Zalando): 60,000 train + 10,000 test greyscale 28x28 images, 10 classes.
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package installs it.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Loads `train-*` and `t10k-*` IDX files (plain or .gz) from `directory`.
    public static func load(directory: String = defaultDirectory) throws -> (train: Dataset, test: Dataset) {
        try IDXPair.load(directory: directory, name: "fashion-mnist", classNames: classNames)
    }
}

/// MNIST digits: same file layout as Fashion-MNIST; class names are the digits.
public enum MNIST {
    public static let classNames = (0..<10).map(String.init)

    public static func load(directory: String) throws -> (train: Dataset, test: Dataset) {
        try IDXPair.load(directory: directory, name: "mnist", classNames: classNames)
    }
}

enum IDXPair {
    static func load(directory: String, name: String, classNames: [String]) throws -> (train: Dataset, test: Dataset) {
        let tr = try IDX.findPair(directory: directory, prefix: "train")
        let te = try IDX.findPair(directory: directory, prefix: "t10k")
        let train = try IDX.load(images: tr.images, labels: tr.labels, classCount: classNames.count,
                                 classNames: classNames, name: "\(name)/train")
        let test = try IDX.load(images: te.images, labels: te.labels, classCount: classNames.count,
                                classNames: classNames, name: "\(name)/test")
        guard test.height == train.height, test.width == train.width else {
            throw DataError.inconsistent(
                file: te.images, reason: "test images are \(test.height)x\(test.width) but train images are \(train.height)x\(train.width)")
        }
        return (train, test)
    }
}
