import TinyForgeData

/// The data set loaders users point `--dataset` at: IDX (images + labels, plain or gzip),
/// NPY (images + labels) and CIFAR-10/100 binary batches. Byte 0 picks the loader; for the
/// two-file formats bytes 1–2 (little-endian) give the length of the images file and the
/// rest is the labels file. Any file may be rejected with an error; none may crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzData(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    guard let mode = bytes.first else { return 0 }
    switch mode % 4 {
    case 0, 1:
        guard bytes.count >= 3 else { return 0 }
        let split = min(bytes.count, 3 + (Int(bytes[1]) | Int(bytes[2]) << 8))
        let images = FuzzInput.file(bytes[3..<split], tag: "images")
        let labels = FuzzInput.file(bytes[split...], tag: "labels")
        let set = mode % 4 == 0 ? try? IDX.load(images: images, labels: labels)
                                : try? NPY.load(images: images, labels: labels)
        if let set { FuzzInput.require(set.labels.allSatisfy { $0 >= 0 && Int($0) < set.classCount }, "label outside 0..<classCount") }
    default:
        let labelBytes = mode % 4 == 2 ? 1 : 2
        let file = FuzzInput.file(bytes[1...], tag: "batch.bin")
        _ = try? CIFAR.loadBatches([file], labelBytes: labelBytes, classCount: labelBytes == 1 ? 10 : 100,
                                   classNames: nil, name: "fuzz")
    }
    return 0
}
