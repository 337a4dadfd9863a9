import Foundation
import TinyForgeSpec

/// How to train a candidate (the proxy training of the search).
public struct EvaluationSettings: Sendable, Equatable, Codable {
    /// Data set source as given on the command line (`fashion-mnist:DIR`, `cifar10:DIR`, ...).
    public var dataset: String
    public var epochs: Int
    /// Fraction of the training split used (0 < subset ≤ 1).
    public var subset: Double
    public var seed: UInt64
    /// Passed through verbatim to the worker command.
    public var extraArgs: [String]

    public init(dataset: String, epochs: Int, subset: Double = 1, seed: UInt64 = 0, extraArgs: [String] = []) {
        self.dataset = dataset; self.epochs = epochs; self.subset = subset; self.seed = seed; self.extraArgs = extraArgs
    }
}

/// One candidate to evaluate.
public struct EvaluationJob: Sendable {
    public var candidateID: Int64
    public var hash: String
    public var spec: ArchitectureSpec
    public var cost: CostSummary
    public var settings: EvaluationSettings
    /// Successive-halving rung (0 = the proxy); `settings` already holds this rung's epochs.
    public var rung: Int

    public init(candidateID: Int64, hash: String, spec: ArchitectureSpec, cost: CostSummary, settings: EvaluationSettings,
                rung: Int = 0) {
        self.candidateID = candidateID; self.hash = hash; self.spec = spec; self.cost = cost; self.settings = settings
        self.rung = rung
    }
}

/// Turns a candidate into an `EvaluationResult`. Must never throw or crash the search: every
/// failure becomes `.failed(reason:)`. Must be safe to call concurrently (the controller runs
/// up to `workers` evaluations at once).
public protocol Evaluator: Sendable {
    var name: String { get }
    /// True when the score is not an accuracy on a real data set (synthetic proxy); reports
    /// then say "synthetic score", never "accuracy".
    var isSynthetic: Bool { get }
    func evaluate(_ job: EvaluationJob) async -> EvaluationResult
    /// Called once before a (resumed) run evaluates anything: cleans up what a killed earlier
    /// session left running. Returns one line per action taken, for the run's event log.
    func reapLeftovers() -> [String]
}

extension Evaluator {
    public func reapLeftovers() -> [String] { [] }
}

extension EvaluationResult {
    /// Decodes the worker's METRICS.json (the `tinyforge evaluate-candidate --out` contract):
    /// `{"status": "ok"|"diverged"|"failed", "val_accuracy": 0.87, "val_loss": 0.4,
    ///   "train_loss": 0.5, "epochs": 3, "seconds": 12.5, "images_per_second": 900, "error": "..."}`.
    /// Unknown numeric fields go to `extra`. Throws `SearchError` naming the bad field.
    public static func decodeMetrics(_ data: Data, source: String) throws -> EvaluationResult {
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
        var r = EvaluationResult(status: .ok)
        switch st {
        case "ok": r.status = .ok
        case "diverged": r.status = .diverged
        case "failed":
            var reason = "worker reported failure"
            if case .string(let e)? = o["error"], !e.isEmpty { reason = e }
            r.status = .failed(reason: reason)
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
        let known: Set<String> = ["status", "val_accuracy", "val_loss", "train_loss", "epochs", "seconds", "error"]
        for (k, v) in o where !known.contains(k) {
            if case .number(let d) = v, d.isFinite { r.extra[k] = d }
        }
        return r
    }

    /// The METRICS.json form of this result (used by fake workers in tests and by
    /// `tinyforge evaluate-candidate`).
    public func metricsJSON() -> JSONValue {
        var o: [String: JSONValue] = ["status": .string(status.name), "epochs": .number(Double(epochs)),
                                      "seconds": .number(seconds)]
        if let v = valAccuracy { o["val_accuracy"] = .number(v) }
        if let v = valLoss { o["val_loss"] = .number(v) }
        if let v = trainLoss { o["train_loss"] = .number(v) }
        if let e = failureReason { o["error"] = .string(e) }
        for (k, v) in extra { o[k] = .number(v) }
        return .object(o)
    }
}
