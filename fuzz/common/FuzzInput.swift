import Foundation

/// Helpers shared by every fuzz target (compiled into each one by scripts/fuzz.sh).
///
/// libFuzzer hands a target raw bytes; the loaders under test read files, so the bytes go to a
/// per-process scratch file (in /dev/shm when it exists: a tmpfs write costs microseconds, and
/// each fuzzing process has its own file, so parallel `-jobs` never share one).
enum FuzzInput {
    static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    static func text(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    }

    /// Scratch path `<dir>/tinyforge-fuzz-<pid>-<tag>` (one per process and purpose).
    static func scratchPath(_ tag: String) -> String {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(dir)/tinyforge-fuzz-\(getpid())-\(tag)"
    }

    /// Writes `bytes` to the scratch file `tag` and returns its path.
    static func file(_ bytes: ArraySlice<UInt8>, tag: String) -> String {
        let path = scratchPath(tag)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            fatalError("fuzz harness: cannot write scratch file \(path)")  // harness failure, not a finding
        }
        return path
    }

    /// A property the code under test must keep; a violation is reported as a crash.
    static func require(_ ok: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
        if !ok() { fatalError("fuzz property violated: \(what())") }
    }
}
