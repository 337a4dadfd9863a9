import XCTest
@testable import TinyForgeExplain

final class PNGTests: XCTestCase {
    func testChecksumsMatchPublishedValues() {
        XCTAssertEqual(PNG.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(PNG.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        // Long input crosses the Adler reduction block (5552 bytes).
        let long = [UInt8](repeating: 255, count: 100_000)
        var a: UInt64 = 1, b: UInt64 = 0
        for x in long { a = (a + UInt64(x)) % 65_521; b = (b + a) % 65_521 }
        XCTAssertEqual(PNG.adler32(long), UInt32(b << 16 | a))
    }

    func testEncodedPNGDecodesWithZlibToTheSamePixels() throws {
        // 300×250 RGB > 65 535 bytes: several stored blocks.
        let w = 300, h = 250
        let px = (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 911) }
        let png = PNG.encode(pixels: px, width: w, height: h, color: .rgb)
        let d = try DecodedPNG(png)
        XCTAssertEqual([d.width, d.height, d.channels], [w, h, 3])
        XCTAssertEqual(d.pixels, px)
    }

    func testHeatmapColoursAndOverlay() throws {
        let values: [Float] = [0, 0.5, 1, .nan]
        let plain = try DecodedPNG(Heatmap.png(values: values, width: 2, height: 2, scale: 3))
        XCTAssertEqual([plain.width, plain.height], [6, 6])
        // Min → inferno black, max → pale yellow; NaN treated as the minimum.
        XCTAssertEqual(Array(plain.pixels[0..<3]), [0, 0, 4])
        // values[2] is row 1, column 0 → scaled pixels y 3...5, x 0...2.
        let maxPx = (3 * 6 + 0) * 3
        XCTAssertEqual(Array(plain.pixels[maxPx..<(maxPx + 3)]), [252, 255, 164])
        let over = try DecodedPNG(Heatmap.png(values: values, width: 2, height: 2, overlay: [200, 200, 200, 200]))
        XCTAssertGreaterThan(over.pixels[0], 100, "a cold pixel shows the grey image through")
        XCTAssertThrowsError(try Heatmap.png(values: [1, 2, 3], width: 2, height: 2)) {
            XCTAssertTrue("\($0)".contains("Heatmap.values"))
        }
        XCTAssertThrowsError(try Heatmap.png(values: [1, 2, 3, 4], width: 2, height: 2, overlay: [1])) {
            XCTAssertTrue("\($0)".contains("overlay"))
        }
    }
}
