import Foundation
import TinyForgeSpec

/// Runs several proposers over several seeds with the same number of evaluations each and
/// summarises hypervolume against evaluations (mean ± sample standard deviation over seeds).
/// With successive halving, `trials` counts trained candidates and the x axis counts every
/// evaluation (all rungs), so the table runs to the longest curve and reports epochs spent.
/// Every run is a normal run directory (`DIR/<proposer>-seed<S>`), so a comparison can be
/// resumed and every run inspected with `tinyforge runs show`.
public struct Comparison {
    public struct Curve: Sendable {
        public var proposer: String
        public var seed: UInt64
        /// Hypervolume after evaluation 1, 2, … (as many as completed).
        public var hypervolume: [Double]
        public var status: String
        public var wallSeconds: Double
        /// Training epochs spent (Σ evaluations × their rung's epochs) and evaluations per rung;
        /// with successive halving the curve has more points than `trials`.
        public var epochsSpent: Int = 0
        public var evaluationsPerRung: [Int] = []
        /// Per-origin evidence of the run (`ProposerEvidence.compute`).
        public var evidence: [ProposerEvidence] = []
    }

    public var curves: [Curve]
    public var trials: Int
    public var proposers: [String]
    public var seeds: [UInt64]
    public var evaluator: String

    /// Runs (or resumes) every (proposer, seed) run under `directory`.
    /// `postgres`: keep the runs in that PostgreSQL database, named `NAME-PROPOSER-seedS` after
    /// its `?run=NAME` (their files still go to `directory/PROPOSER-seedS`).
    public static func run(base: SearchConfig, proposers: [String], seeds: [UInt64], directory: URL,
                           postgres: PostgresStoreURL? = nil,
                           makeProposer: (SearchConfig) throws -> Proposer,
                           log: ((String) -> Void)? = nil) async throws -> Comparison {
        var curves: [Curve] = []
        for p in proposers {
            for seed in seeds {
                var cfg = base
                cfg.proposer = p
                cfg.seed = seed
                cfg.settings.seed = seed
                if !p.contains("llm") { cfg.llm = nil }   // the shared base carries it for the LLM proposers only
                let dir = directory.appendingPathComponent("\(p)-seed\(seed)")
                var location = StoreLocation.directory(dir)
                if var url = postgres {
                    url.run += "-\(p)-seed\(seed)"
                    url.localDirectory = dir
                    location = .postgres(url)
                }
                let store = try RunStore.exists(at: location)
                    ? try RunStore.open(at: location, lock: .init(command: "compare"))
                    : try RunStore.create(at: location, config: cfg, lock: .init(command: "compare"))
                let stored = try store.config()
                let controller = SearchController(store: store, config: stored, proposer: try makeProposer(stored),
                                                  evaluator: stored.makeEvaluator(runDirectory: store.directory))
                let summary = try await controller.run()
                let hv = try store.hypervolumeHistory().map(\.hypervolume)
                log?("\(p) seed \(seed): \(hv.count) evaluations, \(summary.epochsSpent) epochs, HV "
                     + String(format: "%.4f, %.1f s", hv.last ?? 0, summary.wallSeconds) + " (\(summary.status))")
                let archive = try store.loadState(objectiveSpace: try stored.objectiveSpace()).archive
                let evidence = try ProposerEvidence.compute(store: store, archive: archive, budget: stored.budget)
                curves.append(Curve(proposer: p, seed: seed, hypervolume: hv, status: summary.status, wallSeconds: summary.wallSeconds,
                                    epochsSpent: summary.epochsSpent, evaluationsPerRung: summary.evaluationsPerRung,
                                    evidence: evidence))
            }
        }
        return Comparison(curves: curves, trials: base.trials, proposers: proposers, seeds: seeds, evaluator: base.evaluator)
    }

    /// Mean and sample standard deviation of the hypervolume after `evaluations` evaluations
    /// over the seeds; a run that stopped early counts with its last value.
    public func stats(_ proposer: String, at evaluations: Int) -> (mean: Double, sd: Double) {
        let xs = curves.filter { $0.proposer == proposer }.map { c -> Double in
            c.hypervolume.isEmpty ? 0 : c.hypervolume[min(evaluations, c.hypervolume.count) - 1]
        }
        return Self.meanSD(xs)
    }

    public static func meanSD(_ xs: [Double]) -> (mean: Double, sd: Double) {
        guard !xs.isEmpty else { return (0, 0) }
        let m = xs.reduce(0, +) / Double(xs.count)
        guard xs.count > 1 else { return (m, 0) }
        let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
        return (m, v.squareRoot())
    }

    /// Evaluations on the x axis: `trials`, or more when halving added higher-rung evaluations.
    public var horizon: Int { max(trials, curves.map(\.hypervolume.count).max() ?? 0) }

    public var checkpoints: [Int] {
        Array(Set([1, 2, 3, 4].map { max(1, horizon * $0 / 4) } + [min(10, horizon)])).sorted()
    }

    /// Mean ± sd of the epochs spent per run of `proposer`.
    public func epochs(_ proposer: String) -> (mean: Double, sd: Double) {
        Self.meanSD(curves.filter { $0.proposer == proposer }.map { Double($0.epochsSpent) })
    }

    public func table() -> String {
        var l: [String] = []
        l.append("hypervolume (mean ± sd over \(seeds.count) seeds) after n evaluations"
                 + (horizon > trials ? " (all rungs of successive halving; \(trials) candidates trained per run)" : "")
                 + "; evaluator \(evaluator)" +
                 (evaluator == "synthetic" ? " (synthetic scores, not accuracies)" : ""))
        l.append("proposer     " + checkpoints.map { pad("n=\($0)", 18) }.joined() + "epochs")
        for p in proposers {
            let cells = checkpoints.map { n -> String in
                let s = stats(p, at: n)
                return pad(String(format: "%.4f", s.mean) + " ± " + String(format: "%.4f", s.sd), 18)
            }
            l.append(pad(p, 13) + cells.joined() + String(format: "%.0f", epochs(p).mean))
        }
        l.append(RunReport.normalisation)
        l += evidenceTable()
        return l.joined(separator: "\n")
    }

    public func jsonValue() -> JSONValue {
        var results: [String: JSONValue] = [:]
        for p in proposers {
            let runs = curves.filter { $0.proposer == p }
            let stats = (1...max(horizon, 1)).map { self.stats(p, at: $0) }
            results[p] = [
                "hv_mean": .array(stats.map { .number($0.mean) }), "hv_sd": .array(stats.map { .number($0.sd) }),
                "final_mean": .number(stats.last?.mean ?? 0), "final_sd": .number(stats.last?.sd ?? 0),
                "epochs_mean": .number(epochs(p).mean),
                "per_seed": .array(runs.map { ["seed": .number(Double($0.seed)), "evaluations": .number(Double($0.hypervolume.count)),
                                               "final_hv": .number($0.hypervolume.last ?? 0), "status": .string($0.status),
                                               "wall_seconds": .number($0.wallSeconds),
                                               "epochs_spent": .number(Double($0.epochsSpent)),
                                               "evaluations_per_rung": .array($0.evaluationsPerRung.map { .number(Double($0)) }),
                                               "hv": .array($0.hypervolume.map { .number($0) }),
                                               "proposer_evidence": .array($0.evidence.map(\.jsonValue))] }),
                "evidence": evidenceJSON(p),
            ]
        }
        return ["trials": .number(Double(trials)), "evaluator": .string(evaluator),
                "seeds": .array(seeds.map { .number(Double($0)) }), "proposers": .array(proposers.map { .string($0) }),
                "hypervolume_normalisation": .string(RunReport.normalisation), "results": .object(results)]
    }
}
