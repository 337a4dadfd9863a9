import CompressNIO
import NIOCore
@testable import TinyForgeExplain

/// Test-only PNG reader (8-bit, non-interlaced grey/RGB/RGBA), inflating with zlib through
/// CompressNIO: an independent twin for our encoder and the reader of Chromium screenshots.
struct DecodedPNG {
    var width: Int
    var height: Int
    var channels: Int
    /// (height, width, channels) row-major.
    var pixels: [UInt8]

    enum Failure: Error { case notPNG, badCRC(String), unsupported(String), inflate(String) }

    init(_ bytes: [UInt8]) throws {
        guard bytes.count > 8, Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw Failure.notPNG }
        var i = 8
        var idat: [UInt8] = []
        var w = 0, h = 0, ch = 0
        func u32(_ k: Int) -> Int { Int(bytes[k]) << 24 | Int(bytes[k + 1]) << 16 | Int(bytes[k + 2]) << 8 | Int(bytes[k + 3]) }
        while i + 12 <= bytes.count {
            let len = u32(i)
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let data = Array(bytes[(i + 8)..<(i + 8 + len)])
            guard PNG.crc32(Array(bytes[(i + 4)..<(i + 8 + len)])) == UInt32(u32(i + 8 + len)) else { throw Failure.badCRC(type) }
            if type == "IHDR" {
                w = u32(i + 8); h = u32(i + 12)
                guard data[8] == 8, data[12] == 0 else { throw Failure.unsupported("depth \(data[8]) interlace \(data[12])") }
                switch data[9] { case 0: ch = 1; case 2: ch = 3; case 6: ch = 4; case 4: ch = 2
                default: throw Failure.unsupported("colour type \(data[9])") }
            }
            if type == "IDAT" { idat += data }
            i += 12 + len
        }
        let raw = try DecodedPNG.inflate(idat, expected: h * (w * ch + 1))
        var px = [UInt8](repeating: 0, count: w * h * ch)
        let stride = w * ch
        for y in 0..<h {
            let f = raw[y * (stride + 1)]
            for x in 0..<stride {
                let v = Int(raw[y * (stride + 1) + 1 + x])
                let a = x >= ch ? Int(px[y * stride + x - ch]) : 0
                let b = y > 0 ? Int(px[(y - 1) * stride + x]) : 0
                let c = (x >= ch && y > 0) ? Int(px[(y - 1) * stride + x - ch]) : 0
                let pred: Int
                switch f {
                case 0: pred = 0
                case 1: pred = a
                case 2: pred = b
                case 3: pred = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw Failure.unsupported("filter \(f)")
                }
                px[y * stride + x] = UInt8((v + pred) & 0xFF)
            }
        }
        width = w; height = h; channels = ch; pixels = px
    }

    static func inflate(_ z: [UInt8], expected: Int) throws -> [UInt8] {
        let alloc = ByteBufferAllocator()
        var input = alloc.buffer(bytes: z)
        var output = alloc.buffer(capacity: expected + 1024)
        let d = try ZlibDecompressor(algorithm: .zlib)
        do { try d.inflate(from: &input, to: &output) } catch let e as CompressNIOError where e == .inputBufferOverflow {
        } catch { throw Failure.inflate("\(error)") }
        return output.readBytes(length: output.readableBytes) ?? []
    }
}
