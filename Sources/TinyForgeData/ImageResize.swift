/// How `folder:` datasets and `tinyforge predict` bring an image to the network's resolution.
public enum ResizeMethod: String, Sendable, Codable, CaseIterable {
    /// Box filter with fractional pixel coverage (OpenCV's INTER_AREA for reductions): every
    /// source pixel contributes by the area it covers, so shrinking a photo averages instead of
    /// aliasing. The default.
    case area
    /// PyTorch `interpolate(mode="bilinear", align_corners=False)` without antialiasing (the
    /// same rule as `Resize`), meant for enlarging.
    case bilinear
}

/// Resizing and channel conversion of 8-bit images `(H, W, C)`, rounding to the nearest byte.
public enum ImageResize {
    /// One axis of an area resize: for output index `o`, the source indices `first[o]...` with
    /// their coverage weights (summing to 1), flattened in `index`/`weight` from `start[o]`.
    struct AreaAxis {
        var start: [Int] = [0]
        var index: [Int] = []
        var weight: [Float] = []

        init(input: Int, output: Int) {
            let scale = Double(input) / Double(output)
            for o in 0..<output {
                let lo = Double(o) * scale, hi = Double(o + 1) * scale
                var i = Int(lo.rounded(.down))
                while Double(i) < hi && i < input {
                    let cover = min(hi, Double(i + 1)) - max(lo, Double(i))
                    if cover > 1e-9 { index.append(i); weight.append(Float(cover / scale)) }
                    i += 1
                }
                start.append(index.count)
            }
        }
    }

    /// `image` resized to `height`×`width` with `method` (channels unchanged).
    public static func resize(_ image: DecodedImage, height oh: Int, width ow: Int, method: ResizeMethod) -> DecodedImage {
        if image.height == oh && image.width == ow { return image }
        let out: [UInt8]
        switch method {
        case .area: out = area(image, oh, ow)
        case .bilinear: out = bilinear(image, oh, ow)
        }
        return DecodedImage(width: ow, height: oh, channels: image.channels, pixels: out)
    }

    /// Separable area filter: rows first into a float scratch `(H, outW, C)`, then columns.
    static func area(_ img: DecodedImage, _ oh: Int, _ ow: Int) -> [UInt8] {
        let c = img.channels, w = img.width, h = img.height
        let ax = AreaAxis(input: w, output: ow), ay = AreaAxis(input: h, output: oh)
        var rows = [Float](repeating: 0, count: h * ow * c)
        img.pixels.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for ox in 0..<ow {
                        for k in ax.start[ox]..<ax.start[ox + 1] {
                            let s = (y * w + ax.index[k]) * c, d = (y * ow + ox) * c, wt = ax.weight[k]
                            for ch in 0..<c { dst[d + ch] += wt * Float(src[s + ch]) }
                        }
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: oh * ow * c)
        let row = ow * c
        for oy in 0..<oh {
            var acc = [Float](repeating: 0, count: row)
            for k in ay.start[oy]..<ay.start[oy + 1] {
                let base = ay.index[k] * row, wt = ay.weight[k]
                for j in 0..<row { acc[j] += wt * rows[base + j] }
            }
            for j in 0..<row { out[oy * row + j] = toByte(acc[j]) }
        }
        return out
    }

    /// Bilinear with the `Resize.AxisTable` rule (PyTorch, align_corners=False).
    static func bilinear(_ img: DecodedImage, _ oh: Int, _ ow: Int) -> [UInt8] {
        let c = img.channels, w = img.width
        let ty = Resize.AxisTable(input: img.height, output: oh), tx = Resize.AxisTable(input: w, output: ow)
        var out = [UInt8](repeating: 0, count: oh * ow * c)
        img.pixels.withUnsafeBufferPointer { s in
            for oy in 0..<oh {
                let r0 = Int(ty.i0[oy]) * w * c, r1 = Int(ty.i1[oy]) * w * c, wy0 = ty.w0[oy], wy1 = ty.w1[oy]
                for ox in 0..<ow {
                    let a = Int(tx.i0[ox]) * c, b = Int(tx.i1[ox]) * c, wx0 = tx.w0[ox], wx1 = tx.w1[ox]
                    for ch in 0..<c {
                        let top = wx0 * Float(s[r0 + a + ch]) + wx1 * Float(s[r0 + b + ch])
                        let bottom = wx0 * Float(s[r1 + a + ch]) + wx1 * Float(s[r1 + b + ch])
                        out[(oy * ow + ox) * c + ch] = toByte(wy0 * top + wy1 * bottom)
                    }
                }
            }
        }
        return out
    }

    @inline(__always) static func toByte(_ v: Float) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }

    /// Grey → RGB replicates; RGB → grey uses ITU-R BT.601 luma (L = 0.299 R + 0.587 G +
    /// 0.114 B, what Pillow's `convert("L")` computes), rounded.
    public static func convert(_ image: DecodedImage, channels: Int) -> DecodedImage {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        if image.channels == channels { return image }
        let n = image.width * image.height
        var out = [UInt8](repeating: 0, count: n * channels)
        if channels == 3 {
            for i in 0..<n { let v = image.pixels[i]; out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v }
        } else {
            for i in 0..<n {
                let r = UInt32(image.pixels[3 * i]), g = UInt32(image.pixels[3 * i + 1]), b = UInt32(image.pixels[3 * i + 2])
                out[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
            }
        }
        return DecodedImage(width: image.width, height: image.height, channels: channels, pixels: out)
    }
}
