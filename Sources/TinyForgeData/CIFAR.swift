import Foundation

/// CIFAR-10 / CIFAR-100 "binary version" loaders.
///
/// A record is the label byte(s) then 3072 bytes of one 32x32 image stored channel-planar
/// `(C=3, H=32, W=32)`: 1024 red, 1024 green, 1024 blue. We transpose to `(H, W, C)` on load
/// because the whole engine is NHWC. CIFAR-100 records carry a coarse (20 superclasses) and a
/// fine (100 classes) label byte; the fine label is used.
public enum CIFAR {
    public static let imageBytes = 3 * 32 * 32

    public static let cifar10ClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"]

    /// Loads `data_batch_1..5.bin` (train) and `test_batch.bin` from `directory` or from its
    /// `cifar-10-batches-bin` subfolder (the archive's layout). Class names come from
    /// `batches.meta.txt` when present, else the standard list.
    public static func loadCIFAR10(directory: String) throws -> (train: Dataset, test: Dataset) {
        let dir = try resolve(directory, sub: "cifar-10-batches-bin", probe: "test_batch.bin")
        let trainFiles = (1...5).map { (dir as NSString).appendingPathComponent("data_batch_\($0).bin") }
        let names = readNames((dir as NSString).appendingPathComponent("batches.meta.txt"), count: 10)
            ?? cifar10ClassNames
        let train = try loadBatches(trainFiles, labelBytes: 1, classCount: 10, classNames: names, name: "cifar10/train")
        let test = try loadBatches([(dir as NSString).appendingPathComponent("test_batch.bin")],
                                   labelBytes: 1, classCount: 10, classNames: names, name: "cifar10/test")
        return (train, test)
    }

    /// Loads `train.bin` and `test.bin` from `directory` or its `cifar-100-binary` subfolder;
    /// fine labels (100 classes); names from `fine_label_names.txt` when present.
    public static func loadCIFAR100(directory: String) throws -> (train: Dataset, test: Dataset) {
        let dir = try resolve(directory, sub: "cifar-100-binary", probe: "test.bin")
        let names = readNames((dir as NSString).appendingPathComponent("fine_label_names.txt"), count: 100)
            ?? cifar100FineClassNames
        let train = try loadBatches([(dir as NSString).appendingPathComponent("train.bin")],
                                    labelBytes: 2, classCount: 100, classNames: names, name: "cifar100/train")
        let test = try loadBatches([(dir as NSString).appendingPathComponent("test.bin")],
                                   labelBytes: 2, classCount: 100, classNames: names, name: "cifar100/test")
        return (train, test)
    }

    /// Reads and concatenates record files. `labelBytes` is 1 (CIFAR-10) or 2 (CIFAR-100:
    /// coarse then fine; the last label byte is the one used).
    public static func loadBatches(_ files: [String], labelBytes: Int, classCount: Int,
                                   classNames: [String]?, name: String) throws -> Dataset {
        let record = labelBytes + imageBytes
        var pixels = [UInt8]()
        var labels = [Int32]()
        for file in files {
            let bytes = try FileBytes.read(file)
            guard !bytes.isEmpty, bytes.count % record == 0 else {
                let expected = max(1, (bytes.count + record - 1) / record) * record
                throw DataError.sizeMismatch(
                    file: file, expectedBytes: expected, foundBytes: bytes.count,
                    what: "CIFAR records are \(record) bytes each (\(labelBytes) label + \(imageBytes) image)")
            }
            let n = bytes.count / record
            let base = pixels.count
            pixels.append(contentsOf: repeatElement(0, count: n * imageBytes))
            labels.reserveCapacity(labels.count + n)
            try bytes.withUnsafeBufferPointer { src in
                try pixels.withUnsafeMutableBufferPointer { dstAll in
                    for r in 0..<n {
                        let rec = r * record
                        let label = Int32(src[rec + labelBytes - 1])
                        guard Int(label) < classCount else {
                            throw DataError.inconsistent(
                                file: file, reason: "record \(r): label \(label) is outside 0..<\(classCount) (wrong CIFAR variant?)")
                        }
                        labels.append(label)
                        // src image is (C,H,W) planar; dst is (H,W,C) interleaved.
                        let s = rec + labelBytes
                        let d = base + r * imageBytes
                        for p in 0..<1024 {
                            dstAll[d + 3 * p] = src[s + p]
                            dstAll[d + 3 * p + 1] = src[s + 1024 + p]
                            dstAll[d + 3 * p + 2] = src[s + 2048 + p]
                        }
                    }
                }
            }
        }
        return try Dataset(name: name, height: 32, width: 32, channels: 3, pixels: .uint8(pixels),
                           labels: labels, classCount: classCount, classNames: classNames)
    }

    static func resolve(_ directory: String, sub: String, probe: String) throws -> String {
        if FileBytes.exists((directory as NSString).appendingPathComponent(probe)) { return directory }
        let nested = (directory as NSString).appendingPathComponent(sub)
        if FileBytes.exists((nested as NSString).appendingPathComponent(probe)) { return nested }
        throw DataError.fileNotFound(
            path: (directory as NSString).appendingPathComponent(probe),
            hint: "Give the folder holding the CIFAR binary files (or its parent containing \(sub)/).")
    }

    static func readNames(_ path: String, count: Int) -> [String]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let names = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return names.count == count ? names : nil
    }

    /// The 100 fine class names in label order (alphabetical, as in `fine_label_names.txt`).
    public static let cifar100FineClassNames = [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    ]
}
