import Foundation
import TinyForgeSpec
import XCTest

final class AtomicFileTests: XCTestCase {
    func directory() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tf-atomic-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func names(_ d: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []).sorted() }

    func testWritesAndReplacesLeavingNoTemporaryFile() throws {
        let d = directory()
        let f = d.appendingPathComponent("spec.json")
        try AtomicFile.write("first\n", to: f)
        XCTAssertEqual(try String(contentsOf: f, encoding: .utf8), "first\n")
        let big = Data((0..<200_000).map { UInt8($0 % 251) })
        try AtomicFile.write(big, to: f)
        XCTAssertEqual(try Data(contentsOf: f), big)
        try AtomicFile.write(Data(), to: f)   // an empty file is a legitimate content
        XCTAssertEqual(try Data(contentsOf: f).count, 0)
        XCTAssertEqual(names(d), ["spec.json"])
        let mode = try FileManager.default.attributesOfItem(atPath: f.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode.map { $0 & 0o600 }, 0o600, "owner must be able to read and write the result")
    }

    /// A failed replacement keeps the old destination untouched and leaves no partial or
    /// temporary file behind.
    func testFailedRenameKeepsTheOldContentsAndNoPartialFile() throws {
        let d = directory()
        let target = d.appendingPathComponent("pareto.json")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try "keep".write(to: target.appendingPathComponent("inside"), atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try AtomicFile.write("new", to: target)) { e in
            guard case .rename(let file, _)? = e as? AtomicFileError else { return XCTFail("\(e)") }
            XCTAssertEqual(file, target.path)
            XCTAssertTrue("\(e)".contains("previous contents are unchanged"), "\(e)")
        }
        XCTAssertEqual(names(d), ["pareto.json"], "no temporary file may be left behind")
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("inside"), encoding: .utf8), "keep")
    }

    func testMissingDirectoryNamesTheFile() {
        let f = directory().appendingPathComponent("no/such/dir/model.safetensors")
        XCTAssertThrowsError(try AtomicFile.write(Data([1, 2, 3]), to: f)) { e in
            guard case .createTemporary(let file, let reason)? = e as? AtomicFileError else { return XCTFail("\(e)") }
            XCTAssertEqual(file, f.path)
            XCTAssertTrue(reason.contains("No such file"), reason)
        }
    }

    /// Many concurrent writers of one file: every reader at every moment sees one complete
    /// version, never an empty or mixed one (the "spec.json: is empty" failure of issue 12).
    func testConcurrentWritersNeverExposeAPartialFile() throws {
        let d = directory()
        let f = d.appendingPathComponent("spec.json")
        let versions = (0..<4).map { i in String(repeating: "\(i)", count: 50_000) }
        try AtomicFile.write(versions[0], to: f)
        let group = DispatchGroup()
        final class Count: @unchecked Sendable { let lock = NSLock(); var value = 0 }
        let partial = Count()
        for w in 0..<4 {
            DispatchQueue.global().async(group: group) {
                for _ in 0..<40 { try? AtomicFile.write(versions[w], to: f) }
            }
        }
        DispatchQueue.global().async(group: group) {
            for _ in 0..<400 {
                let s = (try? String(contentsOf: f, encoding: .utf8)) ?? ""
                if !versions.contains(s) { partial.lock.lock(); partial.value += 1; partial.lock.unlock() }
            }
        }
        group.wait()
        XCTAssertEqual(partial.value, 0)
        XCTAssertEqual(names(d), ["spec.json"])
    }
}
