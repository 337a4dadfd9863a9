import Foundation
import TinyForgeEngine
import TinyForgeSpec

/// Checkpoints in the safetensors format (8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then raw little-endian data). Weights and
/// BN running statistics are F32; the architecture JSON, its hash and the input
/// normalisation travel in `__metadata__`, so a checkpoint is self-describing.
///
/// Integrity: `data_crc32c` in the metadata is the CRC-32C of all tensor bytes; `read`
/// verifies it (a bit flip is an error naming the file, never silently different weights) and
/// refuses NaN or infinite values naming the tensor. Checkpoints written before the checksum
/// existed load with a warning.
public enum Checkpoint {
    /// Metadata key of the tensor-data checksum (8 hex digits).
    public static let checksumKey = "data_crc32c"

    public struct Contents {
        public var spec: ArchitectureSpec
        public var metadata: [String: String]
        public var tensors: [String: (shape: [Int], values: [Float])]
        /// Problems that do not stop loading (e.g. no checksum to verify); the CLI prints them.
        public var warnings: [String] = []
    }

    public static func save(_ net: Network, to path: String, metadata extra: [String: String] = [:]) throws {
        var entries: [(String, [Int], Tensor)] = net.parameters.map { ($0.name, $0.value.shape, $0.value) }
        entries += net.buffers.map { ($0.name, $0.value.shape, $0.value) }
        var header: [String: JSONValue] = [:]
        var offset = 0
        for (name, shape, t) in entries {
            header[name] = ["dtype": "F32", "shape": .array(shape.map { .number(Double($0)) }),
                            "data_offsets": [.number(Double(offset)), .number(Double(offset + t.count * 4))]]
            offset += t.count * 4
        }
        var meta: [String: JSONValue] = ["format": "tinyforge-checkpoint-v1", "spec": .string(net.plan.spec.jsonText(pretty: false)),
                                         "hash": .string(net.plan.spec.canonicalHash)]
        for (k, v) in extra { meta[k] = .string(v) }
        var payload = Data(capacity: offset)
        for (_, _, t) in entries { payload.append(UnsafeBufferPointer(start: t.data, count: t.count)) }
        meta[checksumKey] = .string(CRC32C.hex(payload.withUnsafeBytes { CRC32C.checksum($0) }))
        header["__metadata__"] = .object(meta)
        var headerBytes = Array(JSONValue.object(header).canonicalText().utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var data = Data()
        var n = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        data.append(payload)
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Temporary file, fsync, rename, fsync the directory: an interrupted save (kill -9, power
        // cut) leaves the previous checkpoint intact, never half a file or none at all.
        try AtomicFile.write(data, to: url)
    }

    public static func read(_ path: String) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.checkpoint(file: path, reason: "cannot be read (missing or not a file)")
        }
        guard data.count >= 8 else {
            throw TrainingError.checkpoint(file: path, reason: "is \(data.count) bytes; a safetensors file has at least an 8-byte header length")
        }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n > 1, n <= UInt64(data.count - 8) else {
            throw TrainingError.checkpoint(file: path, reason: "header length \(n) does not fit in a \(data.count)-byte file; not a safetensors checkpoint or truncated")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard case .object(let header) = try JSONValue.parse(headerData, source: path) else {
            throw TrainingError.checkpoint(file: path, reason: "header is not a JSON object")
        }
        var meta: [String: String] = [:]
        if case .object(let m)? = header["__metadata__"] {
            for (k, v) in m { if case .string(let s) = v { meta[k] = s } }
        }
        guard let specText = meta["spec"] else {
            throw TrainingError.checkpoint(file: path, reason: "has no architecture in its metadata (not written by TinyForge)")
        }
        let spec = try ArchitectureSpec.decode(jsonText: specText, source: "\(path) metadata.spec").spec
        let base = 8 + Int(n)
        let warnings = try verifyChecksum(data, from: base, stored: meta[checksumKey], file: path)
        var tensors: [String: ([Int], [Float])] = [:]
        for (name, v) in header where name != "__metadata__" {
            let (shape, range) = try tensorEntry(name, v, dataBytes: data.count - base, file: path)
            var values = [Float](repeating: 0, count: range.count / 4)
            values.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst, from: (base + range.lowerBound)..<(base + range.upperBound))
            }
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw TrainingError.checkpoint(file: path, reason: "tensor '\(name)' holds \(values[i]) at element \(i): weights must be finite (the training diverged, or the file was edited); retrain, e.g. with a lower --lr")
            }
            tensors[name] = (shape, values)
        }
        return Contents(spec: spec, metadata: meta, tensors: tensors, warnings: warnings)
    }

    /// Compares the stored CRC-32C of the tensor bytes with the file's; a checkpoint without
    /// one (written before checksums existed) loads with a warning.
    static func verifyChecksum(_ data: Data, from base: Int, stored: String?, file: String) throws -> [String] {
        guard let stored = stored else {
            return ["\(file): has no \(checksumKey) checksum (written by an older TinyForge), so corruption cannot be detected; save it again (e.g. re-run train) to add one"]
        }
        let actual = CRC32C.hex(data.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[base...])) })
        guard actual == stored.lowercased() else {
            throw TrainingError.checkpoint(file: file, reason: "tensor data is corrupt: CRC-32C \(actual) does not match the \(stored) recorded when it was saved (bit flips or a damaged copy); copy it again from its source or retrain")
        }
        return []
    }

    /// One header entry: F32, a shape of non-negative integers and a byte range that matches it
    /// and lies inside the data. Every number comes from the file, so each is converted and
    /// multiplied with checks (1e300, 2^40 × 2^40 or a fraction must not trap, or wrap in
    /// -Ounchecked builds), and each kind of bad value gets its own message.
    static func tensorEntry(_ name: String, _ v: JSONValue, dataBytes: Int, file: String) throws -> (shape: [Int], range: Range<Int>) {
        func int(_ j: JSONValue) -> Int? {
            guard case .number(let d) = j, d >= 0, d <= 9e15, d == d.rounded() else { return nil }
            return Int(d)
        }
        func fail(_ reason: String) -> TrainingError { .checkpoint(file: file, reason: "tensor '\(name)' " + reason) }
        guard case .object(let e) = v, e["dtype"] == "F32", case .array(let sh)? = e["shape"],
              case .array(let off)? = e["data_offsets"], off.count == 2 else {
            throw fail("has a malformed or non-F32 header entry")
        }
        let dims = sh.compactMap(int)
        guard dims.count == sh.count else {
            throw fail("shape \(JSONValue.array(sh).canonicalText()) is not a list of whole numbers")
        }
        guard let b = int(off[0]), let en = int(off[1]), en >= b else {
            throw fail("data_offsets \(JSONValue.array(off).canonicalText()) are not an increasing pair of whole byte offsets")
        }
        guard let count = Checked.product(dims), count <= dataBytes, let bytes = Checked.mul(count, 4) else {
            throw fail("shape \(dims) holds more values than the \(dataBytes) data bytes of the file")
        }
        guard en - b == bytes, en <= dataBytes else {
            throw fail("byte range \(b)..<\(en) does not match shape \(dims) (\(bytes) bytes) or the \(dataBytes) data bytes of the file (truncated?)")
        }
        return (dims, b..<en)
    }

    /// Builds the network of the checkpoint's architecture and loads its weights.
    public static func load(_ path: String, threads: Int = 2) throws -> (network: Network, contents: Contents) {
        let c = try read(path)
        return (try network(c, file: path, threads: threads), c)
    }

    /// The network of already read contents (read first, check memory, then build).
    public static func network(_ c: Contents, file: String, threads: Int = 2) throws -> Network {
        let net = try Network(spec: c.spec, seed: 0, threads: threads)
        try apply(c, to: net, file: file)
        return net
    }

    /// Copies every tensor into `net`; any missing, extra or mis-shaped tensor is an error
    /// naming it (a checkpoint that does not match its spec never loads half-way silently).
    public static func apply(_ c: Contents, to net: Network, file: String) throws {
        var expected: [(String, Tensor)] = net.parameters.map { ($0.name, $0.value) }
        expected += net.buffers.map { ($0.name, $0.value) }
        let names = Set(expected.map(\.0))
        if let extra = c.tensors.keys.sorted().first(where: { !names.contains($0) }) {
            throw TrainingError.checkpoint(file: file, reason: "does not match its architecture: unexpected tensor '\(extra)'")
        }
        for (name, t) in expected {
            guard let (shape, values) = c.tensors[name] else {
                throw TrainingError.checkpoint(file: file, reason: "does not match its architecture: missing tensor '\(name)'")
            }
            guard shape == t.shape else {
                throw TrainingError.checkpoint(file: file, reason: "does not match its architecture: tensor '\(name)' has shape \(shape), the network needs \(t.shape)")
            }
            values.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: t.count) }
        }
    }
}
