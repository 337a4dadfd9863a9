import Foundation
@testable import TinyForgeData
import XCTest

final class ImageFolderTests: XCTestCase {
    var files: TestFiles!
    var cache: String { files.path("cache") }
    override func setUpWithError() throws { files = try TestFiles() }

    func source(_ root: String, _ extra: String = "") throws -> ImageFolderOptions {
        guard case .folder(let o) = try DatasetSource.parse("folder:\(root),cache=\(cache)\(extra)") else { fatalError() }
        return o
    }

    func testParseRoundTripAndBadOptions() throws {
        let s = try DatasetSource.parse("folder:/d,size=32x48,channels=3,resize=bilinear,cache=/c,skip-bad-images")
        XCTAssertEqual(s, .folder(ImageFolderOptions(directory: "/d", height: 32, width: 48, channels: 3, resize: .bilinear,
                                                     cacheDirectory: "/c", skipBadImages: true)))
        XCTAssertEqual(try DatasetSource.parse(s.description), s)
        XCTAssertEqual(try DatasetSource.parse("folder:/d").skippingBadImages(true).description, "folder:/d,skip-bad-images")
        assertDataError(["channels=2", "1 (grey) or 3"]) { _ = try DatasetSource.parse("folder:/d,channels=2") }
        assertDataError(["size=0"]) { _ = try DatasetSource.parse("folder:/d,size=0") }
        assertDataError(["resize=cubic", "area or bilinear"]) { _ = try DatasetSource.parse("folder:/d,resize=cubic") }
        assertDataError(["unknown folder option 'colour'"]) { _ = try DatasetSource.parse("folder:/d,colour=1") }
        assertDataError(["needs a directory"]) { _ = try DatasetSource.parse("folder:") }
    }

    func testLoadsClassesSortedDecodesAndCaches() throws {
        let root = files.path("pets")
        try ImageFixture.write(root: root, classes: ["dog", "cat", "bird"], perClass: 6)
        let first = try ImageFolder.load(try source(root), threads: 2)
        XCTAssertFalse(first.fromCache)
        XCTAssertEqual(first.train.classNames, ["bird", "cat", "dog"])
        XCTAssertEqual(first.train.count, 18)
        XCTAssertEqual([first.train.height, first.train.width, first.train.channels], [12, 12, 1])
        XCTAssertEqual(first.train.labelHistogram(), [6, 6, 6])
        // PNG files are lossless: image 0 of "cat" (label 1 of the fixture's order ["dog","cat","bird"]) is exact.
        XCTAssertEqual(Array(first.train.floatImage(at: 6).map { UInt8(($0 * 255).rounded()) }),
                       ImageFixture.image(label: 1, index: 0).pixels)
        let second = try ImageFolder.load(try source(root), threads: 1)
        XCTAssertTrue(second.fromCache)
        XCTAssertEqual(second.train, first.train)
        XCTAssertEqual(second.cacheFile, first.cacheFile)
        // Another resolution / channel count is another cache entry.
        let resized = try ImageFolder.load(try source(root, ",size=8x6,channels=3,resize=bilinear"))
        XCTAssertFalse(resized.fromCache)
        XCTAssertEqual([resized.train.height, resized.train.width, resized.train.channels], [8, 6, 3])
        // Touching a file (new mtime) changes the fingerprint.
        let f = (root as NSString).appendingPathComponent("dog/000.png")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 100)], ofItemAtPath: f)
        XCTAssertFalse(try ImageFolder.load(try source(root)).fromCache)
    }

    func testDamagedCacheFileIsNamed() throws {
        let root = files.path("damaged")
        try ImageFixture.write(root: root, classes: ["a", "b"], perClass: 3)
        let file = try XCTUnwrap(try ImageFolder.load(try source(root)).cacheFile)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count - 7).write(to: URL(fileURLWithPath: file))
        assertDataError(["damaged image cache", "truncated", "delete the file"]) { _ = try ImageFolder.load(try self.source(root)) }
        try FileManager.default.removeItem(atPath: file)
        XCTAssertFalse(try ImageFolder.load(try source(root)).fromCache, "a deleted cache is rebuilt")
    }

    func testSplitsComeFromTheFolderOrAreCarved() throws {
        let root = files.path("split")
        try ImageFixture.write(root: root + "/train", classes: ["a", "b"], perClass: 9)
        try ImageFixture.write(root: root + "/val", classes: ["a", "b"], perClass: 2)
        try ImageFixture.write(root: root + "/test", classes: ["b"], perClass: 3)
        let s = try DatasetLoader.load(spec: .folder(try source(root)), valFraction: 0.5, seed: 1)
        XCTAssertEqual([s.train.count, s.val.count, try s.finalTestSet().count], [18, 4, 3])
        XCTAssertEqual(try s.finalTestSet().labels, [1, 1, 1])
        XCTAssertEqual(s.valIndices, Array(18..<22))
        let flat = files.path("flat")
        try ImageFixture.write(root: flat, classes: ["a", "b"], perClass: 10)
        let c = try DatasetLoader.load(spec: .folder(try source(flat)), valFraction: 0.2, seed: 1)
        XCTAssertEqual([c.train.count, c.val.count], [16, 4])
        XCTAssertEqual(c.val.labelHistogram(), [2, 2])
        XCTAssertFalse(c.hasTestSet)
    }

    func testColourFolderBecomesRGBAndCanBeForcedToGrey() throws {
        let root = files.path("colour")
        try ImageFixture.write(root: root, classes: ["x", "y"], perClass: 3, channels: 3)
        XCTAssertEqual(try ImageFolder.load(try source(root)).train.channels, 3)
        let grey = try ImageFolder.load(try source(root, ",channels=1"))
        XCTAssertEqual(grey.train.channels, 1)
        let rgb0 = ImageFixture.image(label: 0, index: 0, size: 12, channels: 3)
        XCTAssertEqual(grey.train.floatImage(at: 0).map { UInt8(($0 * 255).rounded()) }, ImageResize.convert(rgb0, channels: 1).pixels)
    }

    func testBadImagesAreListedTogetherAndSkippedOnRequest() throws {
        let root = files.path("bad")
        try ImageFixture.write(root: root, classes: ["a", "b"], perClass: 4)
        let png = try Data(contentsOf: URL(fileURLWithPath: root + "/a/000.png"))
        try png.prefix(png.count / 2).write(to: URL(fileURLWithPath: root + "/a/truncated.png"))
        try Data("just text".utf8).write(to: URL(fileURLWithPath: root + "/b/notes.png"))
        let jpg = try Data(contentsOf: URL(fileURLWithPath: root + "/b/002.jpg"))
        try jpg.prefix(jpg.count / 2).write(to: URL(fileURLWithPath: root + "/b/cut.jpg"))
        try ImageCodec.encodeJPEG(DecodedImage(width: 12, height: 12, channels: 4, pixels: .init(repeating: 40, count: 576)))
            .write(to: URL(fileURLWithPath: root + "/a/cmyk.jpg"))
        assertDataError(["4 image(s) cannot be decoded", "truncated.png", "corrupt PNG", "notes.png", "not a PNG or JPEG",
                         "cut.jpg", "corrupt JPEG", "cmyk.jpg", "not supported", "--skip-bad-images"]) {
            _ = try ImageFolder.load(try self.source(root))
        }
        let ok = try ImageFolder.load(try source(root, ",skip-bad-images"))
        XCTAssertEqual(ok.train.count, 8)
        XCTAssertEqual(ok.skipped.count, 4)
        XCTAssertEqual(try ImageFolder.load(try source(root, ",skip-bad-images")).skipped.count, 4, "the cache keeps the list")
    }

    func testLayoutProblemsHaveClearMessages() throws {
        let empty = files.path("empty")
        try ImageFixture.write(root: empty, classes: ["a", "b"], perClass: 2)
        try FileManager.default.createDirectory(atPath: empty + "/c", withIntermediateDirectories: true)
        assertDataError(["empty/c", "no .png/.jpg/.jpeg images"]) { _ = try ImageFolder.load(try self.source(empty)) }

        let single = files.path("single")
        try ImageFixture.write(root: single, classes: ["only"], perClass: 2)
        assertDataError(["only one class folder ('only')", "at least two"]) { _ = try ImageFolder.load(try self.source(single)) }

        let none = files.path("none")
        try FileManager.default.createDirectory(atPath: none, withIntermediateDirectories: true)
        assertDataError(["no class sub-folders"]) { _ = try ImageFolder.load(try self.source(none)) }

        let mixed = files.path("mixed")
        try ImageFixture.write(root: mixed + "/a", classes: ["."], perClass: 2, size: 12)
        try ImageFixture.write(root: mixed + "/b", classes: ["."], perClass: 2, size: 16)
        assertDataError(["different sizes", "12x12", "16x16", "size="]) { _ = try ImageFolder.load(try self.source(mixed)) }
        XCTAssertEqual(try ImageFolder.load(try source(mixed, ",size=10")).train.height, 10)

        let loop = files.path("loop")
        try ImageFixture.write(root: loop, classes: ["a", "b"], perClass: 2)
        try FileManager.default.createSymbolicLink(atPath: loop + "/a/again", withDestinationPath: loop + "/a")
        assertDataError(["symbolic link loop", "again"]) { _ = try ImageFolder.load(try self.source(loop)) }
        let selfLoop = files.path("selfloop")
        try ImageFixture.write(root: selfLoop, classes: ["a", "b"], perClass: 2)
        try FileManager.default.createSymbolicLink(atPath: selfLoop + "/b/me", withDestinationPath: selfLoop + "/b/me")
        assertDataError(["symbolic link loop", "me"]) { _ = try ImageFolder.load(try self.source(selfLoop)) }

        assertDataError(["file not found", "one sub-folder"]) { _ = try ImageFolder.load(try self.source(self.files.path("missing"))) }
    }
}
