import Foundation
import TinyForgeDeploy
import TinyForgeSpec
import XCTest

/// Runs models through scripts/tflm_run.py (the real TFLM Python interpreter + LiteRT).
/// Set TINYFORGE_PYTHON to pick the interpreter (default: python3 on PATH).
enum TFLMHarness {
    struct Result {
        var tflm: [Int8]
        var litert: [Int8]?
        var litertRef: [Int8]?
        var arenaTotal: Int?
        var json: [String: Any]
    }

    static let scriptURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/tflm_run.py")

    static func python(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let py = ProcessInfo.processInfo.environment["TINYFORGE_PYTHON"] ?? "python3"
        p.arguments = [py, scriptURL.path] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// nil when tflite-micro is importable, else the reason to skip.
    static let unavailableReason: String? = {
        guard FileManager.default.fileExists(atPath: scriptURL.path) else { return "missing \(scriptURL.path)" }
        guard let r = try? python(["--check"]) else { return "could not start python3 (set TINYFORGE_PYTHON)" }
        if r.status == 0 { return nil }
        return "tflite-micro not importable (pip install tflite-micro ai-edge-litert): \(r.stdout) \(r.stderr)"
    }()

    static func skipIfUnavailable() throws {
        if let reason = unavailableReason { throw XCTSkip(reason) }
    }

    static func run(_ model: QuantizedModel, inputs: [[Int8]], tag: String) throws -> Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-tflm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // TINYFORGE_TFLM_KEEP=1 keeps the .tflite and I/O files for debugging.
        let keep = ProcessInfo.processInfo.environment["TINYFORGE_TFLM_KEEP"] == "1"
        defer { if keep { print("TFLM-INTEROP kept \(dir.path)") } else { try? FileManager.default.removeItem(at: dir) } }
        let modelURL = dir.appendingPathComponent("\(tag).tflite")
        try Data(TFLiteWriter.serialize(model)).write(to: modelURL)
        let inURL = dir.appendingPathComponent("in.bin")
        try Data(inputs.flatMap { $0.map { UInt8(bitPattern: $0) } }).write(to: inURL)
        let outURL = dir.appendingPathComponent("out.bin")
        let lrURL = dir.appendingPathComponent("lr.bin"), refURL = dir.appendingPathComponent("ref.bin")
        let r = try python(["--model", modelURL.path, "--input", inURL.path, "--output", outURL.path,
                            "--litert-output", lrURL.path, "--litert-ref-output", refURL.path])
        guard r.status == 0 else {
            throw DeployError.invalidFlatBuffer(reason: "tflm_run.py failed (\(r.status)) for \(tag): \(r.stdout) \(r.stderr)")
        }
        let json = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        func read(_ u: URL) -> [Int8]? {
            (try? Data(contentsOf: u)).map { $0.map { Int8(bitPattern: $0) } }
        }
        let arena = (json["arena"] as? [String: Any])?["total"] as? Int
        return Result(tflm: read(outURL) ?? [], litert: read(lrURL), litertRef: read(refURL), arenaTotal: arena, json: json)
    }
}

/// Seeded random weights, ranges and inputs for the interop models.
struct RandomModelSource {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * rng.nextFloat() }

    /// He-style Gaussian weights with a random per-channel gain, so per-channel scales differ.
    mutating func weights(count: Int, fanIn: Int, channels: Int, channelStride: Int) -> [Float] {
        let gains = (0..<channels).map { _ in uniform(0.2, 2) }
        let std = (2 / Float(fanIn)).squareRoot()
        return (0..<count).map { i in rng.nextGaussian() * std * gains[(i / channelStride) % channels] }
    }

    mutating func bias(_ n: Int) -> [Float] { (0..<n).map { _ in rng.nextGaussian() * 0.2 } }

    /// A random activation range containing 0 (asymmetric, sometimes all-positive).
    mutating func range(magnitude: Float) throws -> QuantParams {
        let lo = rng.nextFloat() < 0.25 ? 0 : -uniform(0.2, 1) * magnitude
        return try Quantizer.activationParams(min: lo, max: uniform(0.3, 1) * magnitude)
    }

    mutating func input(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8(truncatingIfNeeded: rng.next()) } }
}
