import ArgumentParser
import Foundation
import TinyForgeData

/// `tinyforge export-images`: any dataset source written as a `folder:` dataset (PNG/JPEG files
/// made by libpng / libjpeg-turbo), e.g. to check that a folder run matches the IDX run, or to
/// hand images to other tools.
struct ExportImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-images",
        abstract: "Write a dataset as image files: OUT/train/<class>/NNNNN.png|jpg and OUT/test/... (the folder: layout).",
        discussion: """
            File NNNNN is image NNNNN of the source split, so the files of a class sort in the source's order.
            Example: tinyforge export-images --dataset fashion-mnist --out data/fmnist-folder --jpeg-every 4
            """)

    @Option(help: "Dataset source (as --dataset elsewhere).") var dataset: String = "fashion-mnist"
    @Option(help: "Output directory (created).") var out: String
    @Option(help: "Write every N-th image as JPEG (0: PNG only, 1: JPEG only).") var jpegEvery: Int = 0
    @Option(help: "JPEG quality, 1...100.") var quality: Int = 95
    @Option(help: "Write at most N images per split (the first N).") var limit: Int?

    func run() throws {
        do {
            guard jpegEvery >= 0 else { throw ValidationError("--jpeg-every must be ≥ 0, got \(jpegEvery)") }
            guard (1...100).contains(quality) else { throw ValidationError("--quality must be in 1...100, got \(quality)") }
            if let l = limit, l < 1 { throw ValidationError("--limit must be ≥ 1, got \(l)") }
            let raw = try DatasetLoader.loadRaw(try DatasetSource.parse(dataset))
            var counts = [String]()
            for (name, set) in [("train", raw.train), ("test", raw.test)] {
                guard let d = set else { continue }
                let n = try Self.write(d, to: (out as NSString).appendingPathComponent(name), jpegEvery: jpegEvery,
                                       quality: quality, limit: limit ?? d.count)
                counts.append("\(n) \(name)")
            }
            print("wrote \(counts.joined(separator: " + ")) images of \(dataset) to \(out)")
        } catch let e as ValidationError { throw e } catch { throw fail(error) }
    }

    /// Class folder names: the dataset's class names with `/` replaced (a path separator), else
    /// the label number.
    static func folderNames(_ d: Dataset) -> [String] {
        let names = d.classNames ?? (0..<d.classCount).map { String(format: "%03d", $0) }
        return names.map { $0.replacingOccurrences(of: "/", with: "-") }
    }

    static func write(_ d: Dataset, to dir: String, jpegEvery: Int, quality: Int, limit: Int) throws -> Int {
        guard case .uint8(let pixels) = d.pixels else {
            throw ValidationError("\(d.name) stores float pixels; export-images writes 8-bit images only")
        }
        let names = folderNames(d)
        for n in names { try FileManager.default.createDirectory(atPath: (dir as NSString).appendingPathComponent(n), withIntermediateDirectories: true) }
        let s = d.sampleSize, n = min(limit, d.count)
        for i in 0..<n {
            let img = DecodedImage(width: d.width, height: d.height, channels: d.channels, pixels: Array(pixels[(i * s)..<((i + 1) * s)]))
            let jpeg = jpegEvery > 0 && i % jpegEvery == jpegEvery - 1
            let bytes = jpeg ? try ImageCodec.encodeJPEG(img, quality: quality) : try ImageCodec.encodePNG(img)
            let file = String(format: "%05d.%@", i, jpeg ? "jpg" : "png")
            try bytes.write(to: URL(fileURLWithPath: dir).appendingPathComponent(names[Int(d.labels[i])]).appendingPathComponent(file))
        }
        return n
    }
}
