import CompressNIO
import Foundation
import NIOCore

/// Reads a whole file into memory, gunzipping it when it starts with the gzip magic (1F 8B).
///
/// Sniffing the magic rather than trusting the `.gz` suffix means a renamed or pre-extracted
/// file still loads. Decompression uses compress-nio's zlib binding in one pass into a buffer
/// sized from the gzip trailer (ISIZE), growing only if the trailer lies (truncated files).
enum FileBytes {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.fileNotFound(path: path, hint: "Check the path and the file permissions.")
        }
        let raw = [UInt8](data)
        if raw.count >= 2 && raw[0] == 0x1F && raw[1] == 0x8B {
            return try gunzip(raw, file: path)
        }
        return raw
    }

    /// True when `path` exists as a regular file.
    static func exists(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    /// Decompresses a complete gzip member. Throws `DataError.gzip` when the data is corrupt
    /// (bad CRC, bad block) or when the input ends before the deflate end-of-stream marker.
    static func gunzip(_ compressed: [UInt8], file: String) throws -> [UInt8] {
        // Smallest gzip member: 10-byte header + 2-byte empty deflate block + 8-byte trailer.
        guard compressed.count >= 20 else {
            throw DataError.gzip(file: file, reason: "only \(compressed.count) bytes, shorter than any gzip stream (20 bytes); file is truncated")
        }
        // ISIZE (last 4 bytes, little-endian) = uncompressed size mod 2^32. Deflate cannot
        // expand more than ~1032:1, so a larger claim means the tail is not a real trailer.
        let n = compressed.count
        let isize = Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8
            | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
        var capacity = (isize > 0 && isize <= n * 1040) ? isize : n * 4
        let allocator = ByteBufferAllocator()
        var input = allocator.buffer(bytes: compressed)
        var output = allocator.buffer(capacity: capacity)
        let inflater: ZlibDecompressor
        do {
            inflater = try ZlibDecompressor(algorithm: .gzip)
        } catch {
            throw DataError.gzip(file: file, reason: "cannot initialise zlib (\(error))")
        }
        while true {
            do {
                try inflater.inflate(from: &input, to: &output)
                break
            } catch let e as CompressNIOError where e == .bufferOverflow {
                capacity *= 2
                output.reserveCapacity(capacity)
            } catch let e as CompressNIOError where e == .inputBufferOverflow {
                break  // all input consumed; whether the stream ended is checked below
            } catch let e as CompressNIOError where e == .corruptData {
                throw DataError.gzip(file: file, reason: "corrupt data after \(n - input.readableBytes) of \(n) compressed bytes (bad block or CRC); download the file again")
            } catch {
                throw DataError.gzip(file: file, reason: "\(error)")
            }
        }
        // zlib stops silently when the input runs out mid-stream. Probe: once the stream has
        // ended, inflate consumes nothing more; a truncated stream swallows the extra byte.
        if input.readableBytes == 0 {
            var probe = allocator.buffer(bytes: [0])
            var sink = allocator.buffer(capacity: 64)
            _ = try? inflater.inflate(from: &probe, to: &sink)
            if probe.readableBytes == 0 || sink.readableBytes > 0 {
                throw DataError.gzip(
                    file: file,
                    reason: "stream ends early: \(n) compressed bytes gave \(output.readableBytes) bytes without reaching the end-of-stream marker (file is truncated; download it again)")
            }
        }
        return output.readBytes(length: output.readableBytes) ?? []
    }
}

/// Big-endian 32-bit read used by IDX headers (`bytes` must hold 4 bytes at `offset`).
@inline(__always)
func readBE32(_ bytes: [UInt8], _ offset: Int) -> Int {
    Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
}
