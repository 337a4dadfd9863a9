import Foundation
import TinyForgeSpec

/// The worker's METRICS.json, the `tinyforge evaluate-candidate --out` contract:
///
///     {"status": "ok"|"diverged"|"failed", "val_accuracy": 0.87, "val_loss": 0.4, "train_loss": 0.5,
///      "epochs": 3, "seconds": 12.5, "images_per_second": 900, "hash": "…", "error": "..."}
///
/// Why one type: the worker writes this file and `ProcessEvaluator` reads it back; both go
/// through `jsonValue()` / `decode(_:source:)` here, so the two sides cannot drift apart (a
/// test round-trips every status). Unknown numeric fields are kept in `result.extra`.
public struct WorkerMetrics: Sendable, Equatable {
    public var result: EvaluationResult
    /// Canonical hash of the architecture the worker trained (after it matched the class count
    /// to the data); nil when the worker failed before it had one.
    public var hash: String?
    /// The trainer's explanation of a divergence (a failure's reason is in `result.status`).
    public var message: String?

    public init(result: EvaluationResult, hash: String? = nil, message: String? = nil) {
        self.result = result; self.hash = hash; self.message = message
    }

    /// A worker step that broke (bad spec, unreadable data, memory refusal): the failure is the result.
    public static func failed(_ error: Error, seconds: Double) -> WorkerMetrics {
        WorkerMetrics(result: .failed("\(error)", seconds: seconds))
    }

    /// The file's JSON object (also the `metrics` member of a run report's candidate).
    public func jsonValue() -> JSONValue {
        let r = result
        var o: [String: JSONValue] = ["status": .string(r.status.name), "epochs": .number(Double(r.epochs)),
                                      "seconds": .number(r.seconds)]
        if let v = r.valAccuracy { o["val_accuracy"] = .number(v) }
        if let v = r.valLoss { o["val_loss"] = .number(v) }
        if let v = r.trainLoss { o["train_loss"] = .number(v) }
        if let e = r.failureReason ?? message { o["error"] = .string(e) }
        if let h = hash { o["hash"] = .string(h) }
        for (k, v) in r.extra { o[k] = .number(v) }
        return .object(o)
    }

    /// Writes the file atomically (a reader never sees half of it), creating its directory.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(jsonValue().prettyText() + "\n", to: url)
    }

    /// Reads the file. Throws `SearchError` naming the file and the bad field.
    public static func decode(_ data: Data, source: String) throws -> WorkerMetrics {
        let value: JSONValue
        do { value = try JSONValue.parse(data, source: source) } catch { throw SearchError(source, "\(error)") }
        guard case .object(let o) = value else { throw SearchError(source, "expected a JSON object, found \(value.typeName)") }
        func number(_ k: String) throws -> Double? {
            guard let v = o[k], v != .null else { return nil }
            guard case .number(let d) = v, d.isFinite else { throw SearchError("\(source): \(k)", "expected a finite number, found \(v.canonicalText())") }
            return d
        }
        guard case .string(let st)? = o["status"] else {
            throw SearchError("\(source): status", "is required: \"ok\", \"diverged\" or \"failed\"")
        }
        var error: String?
        if case .string(let e)? = o["error"], !e.isEmpty { error = e }
        var r = EvaluationResult(status: .ok)
        switch st {
        case "ok": r.status = .ok
        case "diverged": r.status = .diverged
        case "failed": r.status = .failed(reason: error ?? "worker reported failure")
        default: throw SearchError("\(source): status", "\"\(st)\" is not one of ok, diverged, failed")
        }
        r.valAccuracy = try number("val_accuracy")
        if let a = r.valAccuracy, !(0...1).contains(a) {
            throw SearchError("\(source): val_accuracy", "\(a) is not a fraction in [0, 1]")
        }
        if r.status == .ok, r.valAccuracy == nil { throw SearchError("\(source): val_accuracy", "is required when status is ok") }
        r.valLoss = try number("val_loss")
        r.trainLoss = try number("train_loss")
        r.epochs = Int(try number("epochs") ?? 0)
        r.seconds = try number("seconds") ?? 0
        let known: Set<String> = ["status", "val_accuracy", "val_loss", "train_loss", "epochs", "seconds", "error", "hash"]
        for (k, v) in o where !known.contains(k) {
            if case .number(let d) = v, d.isFinite { r.extra[k] = d }
        }
        var hash: String?
        if case .string(let h)? = o["hash"] { hash = h }
        return WorkerMetrics(result: r, hash: hash, message: r.failureReason == nil ? error : nil)
    }
}
