import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSearch
import TinyForgeSpec

/// Options shared by `tinyforge search` and `tinyforge compare`: space, task, budget, proposer
/// settings and evaluator.
struct SearchRunOptions: ParsableArguments {
    @Option(help: "Search space: a preset (\(SearchSpace.presets.map(\.name).joined(separator: ", "))) or a JSON file.")
    var space: String = "mcu28"

    @Option(help: "Data set source passed to the workers (e.g. fashion-mnist:DIR, cifar10:DIR, synthetic:classes=10).")
    var dataset: String?

    @Option(help: "Number of classes. Default: 100 for cifar100, N for 'classes=N' in the source, the number of class folders for folder:, else 10.")
    var classes: Int?

    @Flag(help: "folder: datasets: leave out undecodable images instead of failing (passed on to the workers in the dataset string).")
    var skipBadImages = false

    @OptionGroup var budget: BudgetOptions

    @OptionGroup var llm: LLMSamplingOptions

    @Option(help: ArgumentHelp("Surrogate screening: ask the proposer for F× the free slots and train only the best of them by a boosted-tree prediction of proxy accuracy fitted on the archive (ranking: --screen-by; from \(SurrogateScreen.minimumTrained) trained candidates on; before that, unscreened). F in \(SurrogateScreen.factorRange.lowerBound)...\(SurrogateScreen.factorRange.upperBound). Default: off.", valueName: "F"))
    var screen: Int?

    @Option(help: "What --screen ranks by: hypervolume (greedy predicted hypervolume gain of predicted accuracy at the exact costs; default) or accuracy (the highest predicted proxy accuracies).")
    var screenBy: String?

    @Option(help: "Objectives, a comma-separated subset of accuracy, macs, sram, flash. Default: all (macs only with --macs).")
    var objectives: String?

    @Option(help: "Evaluations to complete (done or failed).")
    var trials: Int = 50

    @Option(help: "Proposals evaluated per iteration.")
    var batch: Int = 4

    @Option(help: "Evaluations run at the same time.")
    var workers: Int = 1

    @Option(help: "Training epochs per candidate (with --halving-epochs, its first value is used instead).")
    var epochs: Int = 3

    @Option(help: "Fraction of the training split used per candidate, in (0, 1].")
    var subset: Double = 1

    @Option(help: "Population size of evolution / nsga2 (random samples until this many are scored).")
    var population: Int = 20

    @Option(help: "Tournament size of evolution.")
    var tournament: Int = 5

    @Option(help: "Evaluator: process (one `tinyforge evaluate-candidate` worker per candidate) or synthetic (a formula of architecture features for demos and tests; NOT an accuracy).")
    var evaluator: String = "process"

    @Option(help: "Patch-based inference in the cost model: auto makes the SRAM budget check and the SRAM objective use the best patch plan's arena and the MAC figures include its recomputed halos; off (default) = layer by layer.")
    var patch: String?

    @Option(help: "With --patch auto: the most extra MACs a patch plan may cost, as a fraction of the network's MACs.")
    var patchMaxOverhead: Double?

    @Option(help: "Worker command for the process evaluator, split on spaces. Default: this tinyforge binary with evaluate-candidate.")
    var workerCommand: String?

    @Option(help: "Seconds before a worker is killed and its candidate marked failed.")
    var timeout: Double = 3600

    @Option(help: "Extra argument passed through to every worker (repeatable).")
    var evalArg: [String] = []

    @Option(help: "Synthetic evaluator only: sleep per evaluation in ms (simulates training time).")
    var syntheticDelayMs: Int = 0

    @Option(help: ArgumentHelp("Successive halving: training epochs per rung, strictly increasing (e.g. 1,3,9). Rung 0 (replaces --epochs) trains every candidate; the top 1/η of each rung is retrained from scratch with the next rung's epochs. --trials counts rung-0 candidates. Default: off.", valueName: "E0,E1,..."))
    var halvingEpochs: String?

    @Option(help: "Successive halving: keep the top ⌊n/η⌋ of each rung (default 3).")
    var halvingEta: Int?

    @Option(help: ArgumentHelp("Successive halving: training-split fraction per rung (e.g. 0.25,0.5,1). Default: --subset at every rung.", valueName: "F0,F1,..."))
    var halvingSubsets: String?

    /// `usesLLM` nil = whether `proposer` is an LLM one (compare passes true when any of its
    /// proposers is, so the shared base config carries the sampling).
    func makeConfig(proposer: String, seed: UInt64, usesLLM: Bool? = nil) throws -> SearchConfig {
        guard var dataset = dataset else {
            throw SearchError("--dataset", "is required for a new run (e.g. --dataset fashion-mnist:/data/fmnist); or continue a run with --resume DIR")
        }
        if case .folder(let o) = try DatasetSource.parse(dataset).skippingBadImages(skipBadImages) {
            // Workers get this exact string, so they compute the same cache key; decoding once
            // here fills the cache before any worker starts and checks the folder up front.
            dataset = "folder:" + o.argument
            if classes == nil { return try makeConfig(dataset: dataset, classCount: try ImageFolder.load(o).train.classCount, proposer: proposer, seed: seed, usesLLM: usesLLM) }
        }
        return try makeConfig(dataset: dataset, classCount: nil, proposer: proposer, seed: seed, usesLLM: usesLLM)
    }

    func makeConfig(dataset: String, classCount: Int?, proposer: String, seed: UInt64, usesLLM: Bool?) throws -> SearchConfig {
        let sp = try SpaceCommand.loadSpace(space)
        let (target, b) = try budget.resolve()
        let objs = try objectives.map { try Objective.parseList($0) }
        let numClasses = classes ?? classCount ?? Self.inferClasses(dataset)
        guard ArchitectureSpec.Limits.classes.contains(numClasses) else {
            throw SearchError("--classes", "\(numClasses) is out of range \(ArchitectureSpec.Limits.classes)")
        }
        var c = SearchConfig(space: sp, task: TaskInfo(dataset: dataset, numClasses: numClasses), target: target, budget: b,
                             objectives: objs, proposer: proposer, trials: trials, batch: batch, workers: workers,
                             settings: EvaluationSettings(dataset: dataset, epochs: epochs, subset: subset, seed: seed, extraArgs: evalArg),
                             seed: seed, evaluator: evaluator)
        c.populationSize = population
        c.tournamentSize = tournament
        c.timeoutSeconds = timeout
        c.syntheticDelayMs = syntheticDelayMs
        c.patch = patch?.lowercased()
        c.patchMaxOverhead = patchMaxOverhead
        c.screen = screen
        if let by = screenBy {
            guard screen != nil else { throw SearchError("--screen-by", "only applies with --screen F (e.g. --screen 3)") }
            guard let crit = SurrogateScreen.Criterion(rawValue: by.lowercased()) else {
                throw SearchError("--screen-by", "\"\(by)\" is not one of \(SurrogateScreen.Criterion.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            c.screenBy = crit
        } else if screen != nil {
            c.screenBy = SurrogateScreen.defaultCriterion   // stored, so a later default change does not alter a resumed run
        }
        c.llm = try llm.resolve(usesLLM: usesLLM ?? proposer.contains("llm"), proposer: proposer)
        if let e = halvingEpochs {
            let h = try HalvingSettings.parse(epochs: e, eta: halvingEta, subsets: halvingSubsets)
            c.halving = h
            c.settings.epochs = h.epochs[0]
        } else if halvingEta != nil || halvingSubsets != nil {
            throw SearchError(halvingEta != nil ? "--halving-eta" : "--halving-subsets", "only applies with --halving-epochs (e.g. --halving-epochs 1,3,9)")
        }
        if evaluator == "process" {
            c.workerCommand = workerCommand.map { $0.split(separator: " ").map(String.init) }
                ?? [Self.selfExecutable(), "evaluate-candidate"]
        }
        try c.validate()
        return c
    }

    static func inferClasses(_ dataset: String) -> Int {
        let d = dataset.lowercased()
        if d.hasPrefix("cifar100") || d.hasPrefix("cifar-100") { return 100 }
        if let r = d.range(of: "classes=") {
            let digits = d[r.upperBound...].prefix { $0.isNumber }
            if let n = Int(digits) { return n }
        }
        return 10
    }

    /// The running binary, so workers are the same tinyforge build.
    static func selfExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// Every proposer name `search --proposer` and `compare --proposers` accept.
let proposerNames = ["random", "evolution", "nsga2", "llm", "llm+random", "evolution+llm", "nsga2+llm"]

/// The classic proposers, the `llm` proposer, and evolution / NSGA-II with the LLM as their
/// variation operator (`evolution+llm`, `nsga2+llm`: `LLMVariation`, classic fallback per child).
/// `llmTimeout` (from `--llm-timeout`) overrides TINYFORGE_LLM_TIMEOUT and the default.
func makeProposer(_ config: SearchConfig, llmTimeout: Double? = nil) throws -> Proposer {
    if config.proposer == "llm" { return try makeLLMProposer(fallback: nil, sampling: config.llm, timeout: llmTimeout) }
    if config.proposer == "llm+random" { return try makeLLMProposer(fallback: RandomProposer(), sampling: config.llm, timeout: llmTimeout) }
    if config.proposer == "evolution+llm" || config.proposer == "nsga2+llm" {
        let (llmConfig, client) = try llmClientFromEnvironment(config.proposer, sampling: config.llm, timeout: llmTimeout)
        var base = config
        base.proposer = String(config.proposer.dropLast(4))
        return base.makeClassicProposer(variation: LLMVariation(llm: LLMProposer(client: client, parseRetries: 0),
                                                                model: llmConfig.model))!
    }
    guard let p = config.makeClassicProposer() else {
        throw SearchError("--proposer", "\"\(config.proposer)\" is not one of \(proposerNames.joined(separator: ", "))")
    }
    return p
}

/// The `llm` proposer, configured from the environment so that a resumed run reaches the same
/// server without storing anything secret: TINYFORGE_LLM_URL (required; e.g. the local server of
/// `scripts/llm-server.sh start`, an Ollama or vLLM endpoint), TINYFORGE_LLM_PROVIDER
/// (openai | ollama), TINYFORGE_LLM_MODEL, TINYFORGE_LLM_STRUCTURED, TINYFORGE_LLM_TIMEOUT
/// (`timeout`, from `--llm-timeout`, wins over it); the API key only from
/// TINYFORGE_LLM_API_KEY or OPENAI_API_KEY.
/// `llm+random` appends budget-aware random proposals after the LLM's, used only when the
/// LLM's own candidates are rejected (see `LLMSearchProposer.fallback`).
/// `sampling` (the run's stored `SearchConfig.llm`) overrides the environment's model and
/// sampling, so a resumed run asks the model exactly as it was created to.
func makeLLMProposer(fallback: Proposer?, sampling: LLMSampling?, timeout: Double?) throws -> Proposer {
    let (config, client) = try llmClientFromEnvironment(fallback == nil ? "llm" : "llm+random", sampling: sampling, timeout: timeout)
    return LLMSearchProposer(proposer: LLMProposer(client: client), model: config.model, fallback: fallback)
}

/// The LLM endpoint of the environment (see `makeLLMProposer`), validated; `name` is the
/// proposer that needs it, for the error message; `timeout` overrides the configured one.
func llmClientFromEnvironment(_ name: String, sampling: LLMSampling?, timeout: Double? = nil) throws -> (LLMConfig, LLMClient) {
    let env = ProcessInfo.processInfo.environment
    guard var config = try LLMConfig.fromEnvironment(env) else {
        throw SearchError("--proposer \(name)", "needs an endpoint: set TINYFORGE_LLM_URL (e.g. run `scripts/llm-server.sh run -- tinyforge search ...` for the local SmolLM2, or point it at Ollama/vLLM with TINYFORGE_LLM_PROVIDER and TINYFORGE_LLM_MODEL)")
    }
    sampling?.apply(to: &config)
    if let t = timeout { config.timeoutSeconds = t }
    try config.validate()
    return (config, makeLLMClient(config))
}

/// Runs async work from a synchronous command (the root command is not async).
func runBlocking<T>(_ body: @escaping () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }

/// Progress lines: rewritten in place on a terminal, one plain line each otherwise.
struct SearchProgressPrinter {
    let isTTY = isatty(STDOUT_FILENO) == 1
    let scoreLabel: String

    /// Successive halving on: lines say which rung and count trained candidates separately.
    var halving = false

    func line(_ p: SearchProgress) -> String {
        let score = p.candidate.accuracy.map { String(format: "%.4f", $0) } ?? "failed"
        let best = p.best.map { String(format: "%.4f #%lld", $0.accuracy ?? 0, $0.id) } ?? "-"
        let head = halving ? "eval \(p.evaluation) (trained \(p.trained)/\(p.trials), rung \(p.rung) #\(p.candidate.id))"
                           : "trial \(p.evaluation)/\(p.trials)"
        return head + "  \(scoreLabel) \(score) (best \(best))  HV " + String(format: "%.4f", p.hypervolume)
            + "  front \(p.frontSize)  rejected \(p.rejected)  elapsed \(Self.duration(p.elapsedSeconds))"
            + "  ETA \(p.etaSeconds.map(Self.duration) ?? "?")"
    }

    func print(_ p: SearchProgress) {
        if isTTY {
            FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line(p) + (p.evaluation >= p.trials && !halving ? "\n" : "")).utf8))
        } else {
            Swift.print(line(p))
            fflush(stdout)
        }
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t < 60 { return "\(t)s" }
        if t < 3600 { return "\(t / 60)m\(String(format: "%02d", t % 60))s" }
        return "\(t / 3600)h\(String(format: "%02d", (t % 3600) / 60))m"
    }
}
