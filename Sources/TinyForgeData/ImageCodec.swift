import CImageCodecs
import Foundation

/// One decoded image: 8-bit samples, `(height, width, channels)` row-major, channels 1 (grey)
/// or 3 (RGB).
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }
}

/// Why one image could not be decoded; `ImageFolder` collects these into one message.
public struct ImageFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var reason: String
    public init(file: String, reason: String) { self.file = file; self.reason = reason }
    public var description: String { "\(file): \(reason)" }
}

/// PNG and JPEG through the system's libpng (simplified API) and libjpeg-turbo, via the
/// `CImageCodecs` shim (which turns libjpeg's longjmp errors into status codes). The format is
/// sniffed from the first bytes, not the file name, so a text file named `.png` is reported as
/// what it is instead of crashing a decoder.
public enum ImageCodec {
    public enum Format: String, Sendable { case png, jpeg }

    /// The format of `bytes` by magic number, nil when neither PNG nor JPEG.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> Format? {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.count >= 8, zip(bytes.prefix(8), png).allSatisfy({ $0 == $1 }) { return .png }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        return nil
    }

    /// Decodes a PNG or JPEG held in memory. `file` only names the image in the failure.
    public static func decode(_ data: Data, file: String) -> Result<DecodedImage, ImageFailure> {
        data.withUnsafeBytes { raw -> Result<DecodedImage, ImageFailure> in
            guard !raw.isEmpty else { return .failure(ImageFailure(file: file, reason: "empty file (0 bytes)")) }
            guard let format = sniff(raw) else {
                let head = raw.prefix(8).map { (0x20...0x7E).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
                return .failure(ImageFailure(file: file, reason: "not a PNG or JPEG file (starts with \"\(head)\"; \(raw.count) bytes)"))
            }
            var out: UnsafeMutablePointer<UInt8>?
            var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
            var message = [CChar](repeating: 0, count: 256)
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let status: Int32 = switch format {
            case .png: tf_png_decode(base, raw.count, &out, &w, &h, &c, &message, message.count)
            case .jpeg: tf_jpeg_decode(base, UInt(raw.count), &out, &w, &h, &c, &message, message.count)
            }
            defer { free(out) }
            let text = String(cString: message)
            switch status {
            case 0:
                guard let p = out, w > 0, h > 0 else {
                    return .failure(ImageFailure(file: file, reason: "\(format.rawValue): decoder returned an empty image"))
                }
                let n = Int(w) * Int(h) * Int(c)
                return .success(DecodedImage(width: Int(w), height: Int(h), channels: Int(c),
                                             pixels: Array(UnsafeBufferPointer(start: p, count: n))))
            case 2:
                return .failure(ImageFailure(file: file, reason: "\(text) JPEG is not supported (print colour space); save it as RGB or greyscale"))
            case 3:
                return .failure(ImageFailure(file: file, reason: "\(format.rawValue): out of memory for a \(w)x\(h) image"))
            default:
                return .failure(ImageFailure(file: file, reason: "corrupt \(format == .png ? "PNG" : "JPEG"): \(text.isEmpty ? "decoder error" : text)"))
            }
        }
    }

    /// Reads and decodes one file.
    public static func decodeFile(_ path: String) -> Result<DecodedImage, ImageFailure> {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            return .failure(ImageFailure(file: path, reason: exists ? "cannot be read (check the permissions)" : "no such file"))
        }
        return decode(data, file: path)
    }

    /// Encodes with libpng: `bits` 8 (`pixels` are bytes) or 16 (`samples16` used instead).
    public static func encodePNG(_ image: DecodedImage, samples16: [UInt16]? = nil) throws -> Data {
        var message = [CChar](repeating: 0, count: 256)
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status: Int32
        if let s = samples16 {
            precondition(s.count == image.width * image.height * image.channels, "16-bit samples must be (H, W, C)")
            status = s.withUnsafeBytes {
                tf_png_encode($0.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), 16, &out, &size, &message, message.count)
            }
        } else {
            status = image.pixels.withUnsafeBytes {
                tf_png_encode($0.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), 8, &out, &size, &message, message.count)
            }
        }
        defer { free(out) }
        guard status == 0, let p = out else {
            throw DataError.unsupported(file: "PNG encoder", reason: String(cString: message))
        }
        return Data(bytes: p, count: size)
    }

    /// Encodes with libjpeg-turbo at `quality` (1...100); channels 1, 3 or 4 (CMYK).
    public static func encodeJPEG(_ image: DecodedImage, quality: Int = 95) throws -> Data {
        var message = [CChar](repeating: 0, count: 256)
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer {
            tf_jpeg_encode($0.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), Int32(quality),
                           &out, &size, &message, message.count)
        }
        defer { free(out) }
        guard status == 0, let p = out else {
            throw DataError.unsupported(file: "JPEG encoder", reason: String(cString: message))
        }
        return Data(bytes: p, count: Int(size))
    }
}
