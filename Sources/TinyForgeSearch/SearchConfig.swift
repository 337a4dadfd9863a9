import Foundation
import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSpec

/// Everything that defines a run, stored as JSON in the run store so `--resume` rebuilds the
/// same space, budget, proposer and evaluator without the original command line.
public struct SearchConfig: Codable, Sendable, Equatable {
    /// The search space as its JSON (presets included), so a run does not depend on presets
    /// staying unchanged.
    public var spaceJSON: String
    public var task: TaskInfo
    public var target: String
    public var sramBytes: Int
    public var flashBytes: Int
    public var macs: Int?
    public var objectives: [Objective]
    /// `random`, `evolution`, `nsga2` (built here) or any name the caller builds a proposer for
    /// (`llm`, `llm+random`, and `evolution+llm` / `nsga2+llm`: these with an `LLMVariation`).
    public var proposer: String
    public var populationSize: Int = 20
    public var tournamentSize: Int = 5
    public var selection: EvolutionProposer.Selection = .paretoRank
    public var crossoverRate: Double = 0.9
    public var mutationRate: Double = 0.5
    /// Evaluations to complete (done or failed).
    public var trials: Int
    /// Proposals requested per iteration.
    public var batch: Int
    /// Evaluations run at once.
    public var workers: Int
    public var settings: EvaluationSettings
    public var seed: UInt64
    /// `process` or `synthetic`.
    public var evaluator: String
    public var workerCommand: [String] = []
    public var timeoutSeconds: Double = 3600
    public var syntheticDelayMs: Int = 0
    /// The run stops (status `stalled`) after this many consecutive iterations without one
    /// accepted proposal: the space may not contain anything that fits the budget.
    public var maxBarrenIterations: Int = 20
    /// Successive halving of the proxy training; nil = every candidate is trained once with
    /// `settings` (absent from configs written before halving existed, so they decode as off).
    public var halving: HalvingSettings?
    /// The LLM's sampling (model, temperature, top-p, min-p, max tokens), resolved from flags,
    /// environment and preset when the run was created; nil for runs without an LLM (and for
    /// configs written before it existed: those use the endpoint's defaults).
    public var llm: LLMSampling?
    /// Surrogate screening (`--screen F`): ask the proposer for F× the free slots and train the
    /// candidates with the best predicted proxy accuracy (`SurrogateScreen`); nil = off.
    public var screen: Int?
    /// What screening ranks by (`--screen-by`); nil = `SurrogateScreen.defaultCriterion`.
    public var screenBy: SurrogateScreen.Criterion?
    /// Where evaluations run (`--executor`): nil or `local` = in this process's task group
    /// (the batch-synchronous loop); `workers` / `external` / `slurm` = through the work queue (`jobs`),
    /// `batch` evaluations in flight, by `tinyforge worker` processes (see SearchSession+Queue.swift).
    public var executor: String?
    /// Queue executors: a claimed job whose heartbeat is older than this is reclaimed, and
    /// after `maxJobAttempts` lost leases it fails. nil = the defaults below.
    public var leaseGraceSeconds: Double?
    public var maxJobAttempts: Int?

    public static let executors = ["local", "workers", "external", "slurm"]
    public static let defaultLeaseGraceSeconds = 60.0
    public static let defaultMaxJobAttempts = 3
    /// Whether evaluations go through the work queue.
    public var usesQueue: Bool { (executor ?? "local") != "local" }

    public init(space: SearchSpace, task: TaskInfo, target: Target, budget: Budget, objectives: [Objective]? = nil,
                proposer: String, trials: Int, batch: Int, workers: Int, settings: EvaluationSettings, seed: UInt64,
                evaluator: String) {
        self.spaceJSON = space.jsonValue().canonicalText()
        self.task = task; self.target = target.name
        self.sramBytes = budget.sramBytes; self.flashBytes = budget.flashBytes; self.macs = budget.macs
        self.objectives = objectives ?? ObjectiveSpace.defaultObjectives(for: budget)
        self.proposer = proposer; self.trials = trials; self.batch = batch; self.workers = workers
        self.settings = settings; self.seed = seed; self.evaluator = evaluator
    }

    /// `--patch`: "auto" makes the budget check and the SRAM / MAC objectives use patch plans
    /// (`Budget.patch`); nil or "off" = layer by layer (runs stored before this field decode as nil).
    public var patch: String?
    public var patchMaxOverhead: Double?

    public var budget: Budget {
        var b = Budget(sramBytes: sramBytes, flashBytes: flashBytes, macs: macs)
        if patch == "auto" { b.patch = .auto }
        if let o = patchMaxOverhead { b.patchMaxOverhead = o }
        return b
    }

    public func space() throws -> SearchSpace { try SearchSpace.decode(jsonText: spaceJSON, source: "run config space") }

    public func resolvedTarget() throws -> Target { try Target.named(target) }

    public func objectiveSpace() throws -> ObjectiveSpace { try ObjectiveSpace(objectives: objectives, budget: budget) }

    /// Checks the numbers a user typed; messages name the flag.
    public func validate() throws {
        guard trials >= 1 else { throw SearchError("--trials", "\(trials) must be at least 1") }
        if let p = patch, !["auto", "off"].contains(p) {
            throw SearchError("--patch", "\"\(p)\" is not one of auto, off (a fixed PxP@BLOCK split does not fit every candidate)")
        }
        if let o = patchMaxOverhead, !(o.isFinite && o >= 0) {
            throw SearchError("--patch-max-overhead", "\(o) must be a fraction ≥ 0 of the network's MACs (0.2 = 20 %)")
        }
        guard batch >= 1 else { throw SearchError("--batch", "\(batch) must be at least 1") }
        guard workers >= 1 else { throw SearchError("--workers", "\(workers) must be at least 1") }
        guard settings.epochs >= 1 else { throw SearchError("--epochs", "\(settings.epochs) must be at least 1") }
        guard settings.subset > 0, settings.subset <= 1 else {
            throw SearchError("--subset", "\(settings.subset) must be a fraction in (0, 1]")
        }
        guard ["process", "synthetic"].contains(evaluator) else {
            throw SearchError("--evaluator", "\"\(evaluator)\" is not one of process, synthetic")
        }
        if evaluator == "process", workerCommand.isEmpty {
            throw SearchError("--worker-command", "the process evaluator needs a worker command")
        }
        if let h = halving {
            try h.validate()
            guard settings.epochs == h.epochs[0] else {
                throw SearchError("--epochs", "\(settings.epochs) differs from rung 0 of --halving-epochs (\(h.epochs[0])); with halving, rung 0 is the proxy training")
            }
        }
        if let f = screen, !(SurrogateScreen.factorRange).contains(f) {
            throw SearchError("--screen", "\(f) is outside \(SurrogateScreen.factorRange.lowerBound)...\(SurrogateScreen.factorRange.upperBound) (proposals asked per slot; omit it to train every valid proposal)")
        }
        if let s = llm { try s.validate(source: .flags) }
        try validateExecutor()
        guard timeoutSeconds > 0 else { throw SearchError("--timeout", "\(timeoutSeconds) must be positive") }
        _ = try space()
        _ = try resolvedTarget()
        _ = try objectiveSpace()
    }

    /// `--executor`, `--lease-grace`, `--max-attempts`; successive halving needs batch
    /// boundaries (see README), which the in-flight queue loop does not have.
    func validateExecutor() throws {
        let e = executor ?? "local"
        guard Self.executors.contains(e) else {
            throw SearchError("--executor", "\"\(e)\" is not one of \(Self.executors.joined(separator: ", "))")
        }
        if e != "local", halving != nil {
            throw SearchError("--executor", "\(e) does not support successive halving (--halving-epochs): promotions are decided at batch boundaries, which the in-flight queue does not have; use --executor local with halving")
        }
        if let g = leaseGraceSeconds, !(g.isFinite && g >= 1) { throw SearchError("--lease-grace", "\(g) must be at least 1 second") }
        if let n = maxJobAttempts, n < 1 { throw SearchError("--max-attempts", "\(n) must be at least 1") }
    }

    /// Rungs of the evaluation ladder: 1 without halving.
    public var rungs: Int { halving?.rungs ?? 1 }

    /// Training settings of an evaluation at `rung` (rung 0 = `settings` without halving).
    public func settings(rung: Int) -> EvaluationSettings {
        guard let h = halving, rung > 0 else { return halving.map { $0.settings(base: settings, rung: 0) } ?? settings }
        return h.settings(base: settings, rung: rung)
    }

    /// The built-in proposers; nil for other names (the caller builds those, e.g. `llm`).
    public func makeClassicProposer(variation: VariationOperator = ClassicVariation()) -> Proposer? {
        switch proposer {
        case "random": return RandomProposer()
        case "evolution":
            return EvolutionProposer(populationSize: populationSize, tournamentSize: tournamentSize,
                                     selection: selection, variation: variation)
        case "nsga2":
            return NSGA2Proposer(populationSize: populationSize, crossoverRate: crossoverRate,
                                 mutationRate: mutationRate, variation: variation)
        default: return nil
        }
    }

    public func makeEvaluator(runDirectory: URL) -> Evaluator {
        if evaluator == "synthetic" { return SyntheticEvaluator(delayMilliseconds: syntheticDelayMs) }
        return ProcessEvaluator(command: workerCommand, workRoot: runDirectory.appendingPathComponent("candidates"),
                                timeoutSeconds: timeoutSeconds)
    }

    public func jsonText() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! enc.encode(self), as: UTF8.self)
    }

    public static func decode(_ text: String, source: String) throws -> SearchConfig {
        // JSONDecoder lets a duplicate key or a number like 01 through; the strict reader names
        // the JSON path of such a value before the typed decode runs.
        do { _ = try JSONValue.parse(text, source: source) } catch let e as SpecError {
            throw SearchError(e.path, e.message)
        }
        do { return try JSONDecoder().decode(SearchConfig.self, from: Data(text.utf8)) } catch {
            throw SearchError(source, "is not a valid run configuration (\(error)); was it written by another TinyForge version?")
        }
    }
}
