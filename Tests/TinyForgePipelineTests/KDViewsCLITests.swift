import Foundation
import XCTest

/// `tinyforge train --kd-views`: bad combinations fail with the flag named before any training
/// or teacher inference. Needs the `tinyforge` binary next to the test bundle.
final class KDViewsCLITests: XCTestCase {
    var binary: URL!

    override func setUpWithError() throws {
        let candidates = [Bundle.main.bundleURL, Bundle(for: KDViewsCLITests.self).bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("tinyforge") }
        guard let b = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("tinyforge binary not found next to the tests (\(candidates.map(\.path))); run `swift build` first")
        }
        binary = b
    }

    func train(_ extra: [String]) throws -> (Int32, String) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-kdviews-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let spec = out.appendingPathComponent("a.json")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try TeacherCacheTests.smallSpec.write(to: spec, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = binary
        p.arguments = ["train", spec.path, "--dataset", "synthetic:classes=4,size=12,channels=1,n=64,test=8", "--epochs", "1",
                       "--batch", "16", "--out", out.appendingPathComponent("o").path] + extra
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func testBadKDViewsFlagsFailNamingTheFlag() throws {
        let cases: [([String], String)] = [
            (["--kd-views", "4", "--augment", "crop=2"], "need a teacher"),
            (["--kd-views", "4", "--teacher", "/nonexistent-teacher"], "--augment is none"),
            (["--kd-view-seed", "3", "--augment", "crop=2"], "--kd-view-seed 3 needs --kd-views"),
            (["--kd-views", "2", "--augment", "crop=2", "--teacher-logits", "/nonexistent.npy"], "clean images"),
        ]
        for (args, needle) in cases {
            let (code, text) = try train(args)
            XCTAssertNotEqual(code, 0, "\(args)")
            XCTAssertTrue(text.contains("--kd-views") && text.contains(needle), "\(args): \(text)")
            XCTAssertFalse(text.contains("epoch 1/1"), "refused before training: \(text)")
        }
    }
}
