import Foundation
import TinyForgeData

/// A small generated image-folder fixture written with libpng / libjpeg-turbo's own encoders:
/// class k's images are a bright square at a class-specific place on a noisy background, so
/// classes differ and every file is distinct.
enum ImageFixture {
    static func image(label: Int, index: Int, size: Int = 12, channels: Int = 1) -> DecodedImage {
        var px = [UInt8](repeating: 0, count: size * size * channels)
        var state = UInt32(truncatingIfNeeded: 2_654_435_761 &* (label * 1000 + index + 1))
        for y in 0..<size {
            for x in 0..<size {
                state = state &* 1_664_525 &+ 1_013_904_223
                let inSquare = abs(x - (2 + 3 * label) % size) < 3 && abs(y - (3 + 2 * label) % size) < 3
                let base = inSquare ? 200 : 30
                for c in 0..<channels { px[(y * size + x) * channels + c] = UInt8(base + Int(state >> 28) + 10 * c) }
            }
        }
        return DecodedImage(width: size, height: size, channels: channels, pixels: px)
    }

    /// `root/<class>/<i>.png|jpg`: `perClass` images per class, every third one JPEG.
    static func write(root: String, classes: [String], perClass: Int, size: Int = 12, channels: Int = 1) throws {
        for (k, name) in classes.enumerated() {
            let dir = (root as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for i in 0..<perClass {
                let img = image(label: k, index: i, size: size, channels: channels)
                let jpeg = i % 3 == 2
                let data = jpeg ? try ImageCodec.encodeJPEG(img, quality: 95) : try ImageCodec.encodePNG(img)
                try data.write(to: URL(fileURLWithPath: (dir as NSString).appendingPathComponent(String(format: "%03d.%@", i, jpeg ? "jpg" : "png"))))
            }
        }
    }
}
