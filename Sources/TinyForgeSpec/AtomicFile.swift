import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an atomic write failed: the step, the file and the system's reason.
public enum AtomicFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The temporary file beside the destination could not be created (directory missing or read-only, disk full).
    case createTemporary(file: String, reason: String)
    /// Writing or flushing the temporary file failed (disk full, I/O error).
    case write(file: String, reason: String)
    /// The temporary file could not replace the destination (destination is a directory, cross-device, permissions).
    case rename(file: String, reason: String)

    public var description: String {
        switch self {
        case let .createTemporary(f, r):
            return "\(f): cannot create a temporary file in its directory (\(r)); check that the directory exists, is writable and the disk is not full"
        case let .write(f, r):
            return "\(f): writing failed (\(r)); the previous contents are unchanged — free disk space or check the device and try again"
        case let .rename(f, r):
            return "\(f): cannot replace the file (\(r)); the previous contents are unchanged — check that the path is not a directory and is writable"
        }
    }
}

/// Crash-safe file replacement: a reader (or a process resumed after `kill -9` or a power cut)
/// sees either the complete old file or the complete new one, never an empty or half-written
/// one. Steps: temporary file in the SAME directory (so rename is atomic), write, fsync,
/// rename over the destination, fsync the directory (so the rename itself is durable).
/// Every file of a run, checkpoint and export goes through here.
public enum AtomicFile {
    /// Suffix of temporary files; a crash between create and rename can leave one (`.name.<pid>.<n>.tmp`),
    /// which nothing reads.
    public static let temporarySuffix = ".tmp"

    /// Replaces (or creates) `url` with `data` atomically and durably. The parent directory must exist.
    public static func write(_ data: Data, to url: URL, permissions: mode_t = 0o644) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let (fd, tmp) = try createTemporary(for: url, permissions: permissions)
        var ok = false
        defer { if !ok { close(fd); unlink(tmp) } }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError.write(file: path, reason: lastError())
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw AtomicFileError.write(file: path, reason: "fsync: " + lastError()) }
        guard close(fd) == 0 else { ok = true; unlink(tmp); throw AtomicFileError.write(file: path, reason: "close: " + lastError()) }
        ok = true
        guard rename(tmp, path) == 0 else {
            let reason = lastError()
            unlink(tmp)
            throw AtomicFileError.rename(file: path, reason: reason)
        }
        syncDirectory(dir)
    }

    /// UTF-8 text variant of `write(_:to:)`.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// fsync of a directory makes a completed rename survive a power cut; a failure here (some
    /// file systems refuse fsync on directories) does not undo the rename, so it is not an error.
    public static func syncDirectory(_ path: String) {
        let dfd = open(path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { return }
        _ = fsync(dfd)
        close(dfd)
    }

    private static func createTemporary(for url: URL, permissions: mode_t) throws -> (Int32, String) {
        let dir = url.deletingLastPathComponent().path
        let base = "." + url.lastPathComponent + ".\(getpid())."
        for attempt in 0..<100 {
            let tmp = (dir as NSString).appendingPathComponent(base + "\(UInt32.random(in: 0...UInt32.max))\(attempt)" + temporarySuffix)
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
            if fd >= 0 { return (fd, tmp) }
            if errno != EEXIST { throw AtomicFileError.createTemporary(file: url.path, reason: lastError()) }
        }
        throw AtomicFileError.createTemporary(file: url.path, reason: "100 temporary names in a row already exist")
    }

    private static func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, p, n)
        #else
        return Darwin.write(fd, p, n)
        #endif
    }

    private static func lastError() -> String { String(cString: strerror(errno)) + " (errno \(errno))" }
}
