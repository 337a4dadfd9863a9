import Foundation
import TinyForgeData
import XCTest

final class ImageCodecTests: XCTestCase {
    func decoded(_ data: Data) throws -> DecodedImage {
        switch ImageCodec.decode(data, file: "x") {
        case .success(let i): return i
        case .failure(let f): XCTFail("\(f)"); throw f
        }
    }

    func failure(_ data: Data) -> String {
        if case .failure(let f) = ImageCodec.decode(data, file: "bad.img") { return f.reason }
        XCTFail("decoded although it should not"); return ""
    }

    func testPNGRoundTripIsExactForGreyAndRGB() throws {
        for c in [1, 3] {
            let img = ImageFixture.image(label: 2, index: 5, size: 9, channels: c)
            XCTAssertEqual(try decoded(try ImageCodec.encodePNG(img)), img)
        }
    }

    func testJPEGRoundTripIsClose() throws {
        for c in [1, 3] {
            let img = ImageFixture.image(label: 1, index: 3, size: 16, channels: c)
            let back = try decoded(try ImageCodec.encodeJPEG(img, quality: 100))
            XCTAssertEqual([back.width, back.height, back.channels], [16, 16, c])
            let err = zip(back.pixels, img.pixels).map { abs(Int($0) - Int($1)) }.max()!
            XCTAssertLessThan(err, 40, "q100 JPEG should stay near the original")
        }
    }

    func testSixteenBitPNGIsScaledToEightBits() throws {
        let img = DecodedImage(width: 3, height: 1, channels: 1, pixels: [0, 0, 0])
        let data = try ImageCodec.encodePNG(img, samples16: [0, 32768, 65535])
        XCTAssertEqual(data[24], 16, "IHDR bit depth must be 16")
        let back = try decoded(data)
        XCTAssertEqual(back.channels, 1)
        XCTAssertEqual(back.pixels.first, 0)
        XCTAssertEqual(back.pixels.last, 255)
        XCTAssertTrue((1...254).contains(back.pixels[1]), "mid value \(back.pixels[1])")
    }

    func testBadInputsGiveClearReasons() throws {
        let jpeg = try ImageCodec.encodeJPEG(ImageFixture.image(label: 0, index: 0, size: 32, channels: 3))
        XCTAssertTrue(failure(jpeg.prefix(jpeg.count / 2)).contains("corrupt JPEG"))
        var garbled = jpeg
        for i in 200..<min(400, garbled.count - 2) { garbled[i] = 0xFF }
        XCTAssertTrue(failure(garbled).contains("corrupt JPEG"))
        let png = try ImageCodec.encodePNG(ImageFixture.image(label: 0, index: 0, size: 32))
        XCTAssertTrue(failure(png.prefix(png.count - 20)).contains("corrupt PNG"))
        let text = failure(Data("hello, I am text\n".utf8))
        XCTAssertTrue(text.contains("not a PNG or JPEG") && text.contains("hello, I"), text)
        XCTAssertTrue(failure(Data()).contains("empty file"))
        if case .failure(let f) = ImageCodec.decodeFile("/nonexistent/photo.jpg") { XCTAssertEqual(f.reason, "no such file") } else { XCTFail() }
        let cmyk = DecodedImage(width: 8, height: 8, channels: 4, pixels: [UInt8](repeating: 90, count: 256))
        let reason = failure(try ImageCodec.encodeJPEG(cmyk))
        XCTAssertTrue(reason.contains("JPEG is not supported") && (reason.contains("CMYK") || reason.contains("YCCK")), reason)
    }

    func testAreaResizeAveragesBlocksAndBilinearMatchesReference() {
        let px: [UInt8] = (0..<16).map { UInt8($0 * 10) }
        let img = DecodedImage(width: 4, height: 4, channels: 1, pixels: px)
        let half = ImageResize.resize(img, height: 2, width: 2, method: .area)
        // Block means: (0+10+40+50)/4 = 25, (20+30+60+70)/4 = 45, ...
        XCTAssertEqual(half.pixels, [25, 45, 105, 125])
        let third = ImageResize.resize(img, height: 3, width: 3, method: .area)
        XCTAssertEqual(third.pixels.count, 9)
        // Centre output pixel covers 2/3 of input pixels 1 and 2 on each axis: their mean.
        XCTAssertEqual(third.pixels[4], UInt8((50 + 60 + 90 + 100) / 4))
        let up = ImageResize.resize(img, height: 7, width: 5, method: .bilinear)
        let ref = Resize.bilinearReference(px.map(Float.init), height: 4, width: 4, channels: 1, outHeight: 7, outWidth: 5)
        XCTAssertEqual(up.pixels, ref.map { UInt8($0.rounded()) })
    }

    func testChannelConversionUsesBT601Luma() {
        let rgb = DecodedImage(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 200, 30])
        XCTAssertEqual(ImageResize.convert(rgb, channels: 1).pixels, [76, 124])  // 0.299·255; 0.299·10+0.587·200+0.114·30
        let grey = DecodedImage(width: 1, height: 1, channels: 1, pixels: [7])
        XCTAssertEqual(ImageResize.convert(grey, channels: 3).pixels, [7, 7, 7])
    }
}
