import Foundation
import TinyForgeEngine
import TinyForgeSpec

/// Checkpoints in the safetensors format (8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then raw little-endian data). Weights and
/// BN running statistics are F32; the architecture JSON, its hash and the input
/// normalisation travel in `__metadata__`, so a checkpoint is self-describing.
public enum Checkpoint {
    public struct Contents {
        public var spec: ArchitectureSpec
        public var metadata: [String: String]
        public var tensors: [String: (shape: [Int], values: [Float])]
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
        header["__metadata__"] = .object(meta)
        var headerBytes = Array(JSONValue.object(header).canonicalText().utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var data = Data()
        var n = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for (_, _, t) in entries {
            data.append(UnsafeBufferPointer(start: t.data, count: t.count))
        }
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Write to a temporary file and rename, so an interrupted save never leaves half a file.
        let tmp = url.appendingPathExtension("partial")
        try data.write(to: tmp)
        _ = try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: tmp, to: url)
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
        var tensors: [String: ([Int], [Float])] = [:]
        for (name, v) in header where name != "__metadata__" {
            guard case .object(let e) = v, e["dtype"] == "F32", case .array(let sh)? = e["shape"],
                  case .array(let off)? = e["data_offsets"], off.count == 2,
                  case .number(let b)? = off.first, case .number(let en)? = off.last else {
                throw TrainingError.checkpoint(file: path, reason: "tensor '\(name)' has a malformed or non-F32 header entry")
            }
            // Every number comes from the file: convert and multiply with checks (1e300, 2^40 × 2^40
            // or a fraction used to trap here, or wrap in -Ounchecked builds).
            let size = Double(data.count)
            var dims: [Int] = []
            for v in sh {
                guard case .number(let d) = v, d >= 0, d <= size, d == d.rounded() else {
                    throw TrainingError.checkpoint(file: path, reason: "tensor '\(name)' shape \(JSONValue.array(sh).canonicalText()) is not a list of whole numbers within the file size")
                }
                dims.append(Int(d))
            }
            guard b >= 0, en >= b, en <= size, b == b.rounded(), en == en.rounded() else {
                throw TrainingError.checkpoint(file: path, reason: "tensor '\(name)' data_offsets [\(b), \(en)] are not whole byte offsets within the file size \(data.count)")
            }
            let (start, end) = (Int(b), Int(en))
            var count = 1
            for d in dims {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p <= data.count else {
                    throw TrainingError.checkpoint(file: path, reason: "tensor '\(name)' shape \(dims) holds more values than the \(data.count)-byte file")
                }
                count = p
            }
            guard end - start == count * 4, base + end <= data.count else {
                throw TrainingError.checkpoint(file: path, reason: "tensor '\(name)' byte range \(start)..<\(end) does not match shape \(dims) or the file size \(data.count) (truncated?)")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst, from: (base + start)..<(base + end))
            }
            tensors[name] = (dims, values)
        }
        return Contents(spec: spec, metadata: meta, tensors: tensors)
    }

    /// Builds the network of the checkpoint's architecture and loads its weights.
    public static func load(_ path: String, threads: Int = 2) throws -> (network: Network, contents: Contents) {
        let c = try read(path)
        let net = try Network(spec: c.spec, seed: 0, threads: threads)
        try apply(c, to: net, file: path)
        return (net, c)
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
