/// A minimal PNG encoder (8-bit RGB or grey, no interlace) for heatmaps embedded in the
/// report. The zlib stream uses stored (uncompressed) deflate blocks: no dependency, exact,
/// and heatmaps are small (a 160×160 RGB map is 77 KB, ~103 KB as base64). Spec: PNG
/// (ISO/IEC 15948) chunks + CRC-32, zlib (RFC 1950) header + Adler-32, deflate (RFC 1951)
/// block type 00.
public enum PNG {
    public enum ColorType: UInt8, Sendable { case grey = 0, rgb = 2 }

    /// `pixels` is (height, width, channels) row-major, channels = 1 (grey) or 3 (RGB).
    public static func encode(pixels: [UInt8], width: Int, height: Int, color: ColorType) -> [UInt8] {
        let ch = color == .rgb ? 3 : 1
        precondition(width > 0 && height > 0 && pixels.count == width * height * ch,
                     "PNG.encode: \(pixels.count) bytes for \(width)×\(height)×\(ch)")
        // Raw scanlines, each with filter type 0 (None).
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width * ch + 1))
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(y * width * ch)..<((y + 1) * width * ch)])
        }
        var ihdr = be32(UInt32(width)) + be32(UInt32(height))
        ihdr += [8, color.rawValue, 0, 0, 0]
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += chunk("IHDR", ihdr)
        out += chunk("IDAT", zlibStored(raw))
        out += chunk("IEND", [])
        return out
    }

    /// zlib stream of stored deflate blocks (≤ 65 535 bytes each).
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]  // CM 8, CINFO 7; FLEVEL 0; (0x7801 % 31 == 0)
        var i = 0
        repeat {
            let n = min(65_535, data.count - i)
            let final: UInt8 = i + n == data.count ? 1 : 0
            out.append(final)  // BFINAL, BTYPE = 00
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[i..<(i + n)]
            i += n
        } while i < data.count
        out += be32(adler32(data))
        return out
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        return be32(UInt32(data.count)) + t + data + be32(crc32(t + data))
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309 / ITU-T V.42, reflected, as PNG and zip use).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        // 5552 = largest n with 255·n(n+1)/2 + (n+1)(65520) < 2^32: reduce mod once per block.
        var i = 0
        while i < bytes.count {
            let end = min(i + 5552, bytes.count)
            for k in i..<end { a &+= UInt32(bytes[k]); b &+= a }
            a %= 65_521; b %= 65_521
            i = end
        }
        return b << 16 | a
    }
}

/// Saliency / Grad-CAM arrays to colour-mapped PNGs.
public enum Heatmap {
    /// `values` is (height, width) row-major; normalised to [0, 1] by its own min and max
    /// (a constant map is all 0). `overlay` is a grey image of the same size, blended under
    /// the colours (alpha grows with the value, so cold regions show the image). `scale`
    /// repeats pixels (nearest neighbour) for small maps.
    public static func png(values: [Float], width: Int, height: Int, overlay: [UInt8]? = nil,
                           scale: Int = 1) throws -> [UInt8] {
        guard width > 0, height > 0, values.count == width * height else {
            throw ExplainError.heatmapSize(values: values.count, width: width, height: height)
        }
        if let o = overlay, o.count != width * height {
            throw ExplainError.overlaySize(pixels: o.count, width: width, height: height)
        }
        let finite = values.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 0
        let span = hi > lo ? hi - lo : 1
        let s = max(1, scale)
        let w = width * s, h = height * s
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y / s) * width + x / s
                let v = values[i].isFinite ? Double((values[i] - lo) / span) : 0
                var (r, g, b) = colour(v)
                if let o = overlay {
                    let a = 0.25 + 0.6 * v, grey = Double(o[i])
                    r = a * r + (1 - a) * grey; g = a * g + (1 - a) * grey; b = a * b + (1 - a) * grey
                }
                let k = (y * w + x) * 3
                px[k] = UInt8(max(0, min(255, r.rounded()))); px[k + 1] = UInt8(max(0, min(255, g.rounded())))
                px[k + 2] = UInt8(max(0, min(255, b.rounded())))
            }
        }
        return PNG.encode(pixels: px, width: w, height: h, color: .rgb)
    }

    /// Inferno-like perceptual ramp (black → purple → orange → pale yellow), piecewise linear
    /// through 6 anchors of matplotlib's inferno.
    public static func colour(_ t: Double) -> (Double, Double, Double) {
        let anchors: [(Double, Double, Double)] = [(0, 0, 4), (66, 10, 104), (147, 38, 103), (221, 81, 58),
                                                   (252, 165, 10), (252, 255, 164)]
        let x = max(0, min(1, t)) * Double(anchors.count - 1)
        let i = min(Int(x), anchors.count - 2), f = x - Double(i)
        let a = anchors[i], b = anchors[i + 1]
        return (a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1), a.2 + f * (b.2 - a.2))
    }
}
