import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgeLLM
import TinyForgeSearch
import TinyForgeSpec

/// How the demo's search run is created: the MCU space at the data's resolution and channels,
/// proxy training on the demo's sizes, evaluated by worker processes.
public struct DemoSearchRequest {
    public var dataset: String
    public var splits: DatasetSplits
    public var target: Target
    public var budget: Budget
    public var proposer: String
    /// The LLM's sampling (an LLM proposer only).
    public var llm: LLMSampling?
    public var trials: Int
    public var proxyEpochs: Int
    public var proxySubset: Double
    public var seed: UInt64
    /// The worker command (`tinyforge evaluate-candidate` of the running executable).
    public var workerCommand: [String]
    public var runDirectory: URL

    public init(dataset: String, splits: DatasetSplits, target: Target, budget: Budget, proposer: String, llm: LLMSampling?,
                trials: Int, proxyEpochs: Int, proxySubset: Double, seed: UInt64, workerCommand: [String], runDirectory: URL) {
        self.dataset = dataset; self.splits = splits; self.target = target; self.budget = budget; self.proposer = proposer
        self.llm = llm; self.trials = trials; self.proxyEpochs = proxyEpochs; self.proxySubset = proxySubset; self.seed = seed
        self.workerCommand = workerCommand; self.runDirectory = runDirectory
    }
}

/// The demo's search step as library calls: open (resume) or create the run, search it to the
/// end, choose the best trained front member.
public enum DemoSearch {
    /// The run already in `directory` (a re-run of the demo resumes it), or nil.
    public static func openRun(directory: URL) throws -> (RunStore, SearchConfig)? {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("run.sqlite").path) else { return nil }
        let store = try RunStore.open(directory: directory, lock: .init(command: "demo"))
        return (store, try store.config())
    }

    /// Creates the run (validated before anything is written).
    public static func createRun(_ r: DemoSearchRequest) throws -> (RunStore, SearchConfig) {
        var space = SearchSpace.mcu28
        space.inputChannels = r.splits.train.channels
        space.resolutions = [r.splits.train.height]
        var c = SearchConfig(space: space, task: TaskInfo(dataset: r.dataset, numClasses: r.splits.classCount), target: r.target,
                             budget: r.budget, proposer: r.proposer, trials: r.trials, batch: 4, workers: 1,
                             settings: EvaluationSettings(dataset: r.dataset, epochs: r.proxyEpochs, subset: r.proxySubset, seed: r.seed,
                                                          extraArgs: ["--batch", "64", "--lr", "0.1"]),
                             seed: r.seed, evaluator: "process")
        c.populationSize = 6
        c.llm = r.llm
        c.workerCommand = r.workerCommand
        try c.validate()
        return (try RunStore.create(directory: r.runDirectory, config: c, lock: .init(command: "demo")), c)
    }

    /// Searches the run to the end and writes its report files; returns the report.
    public static func run(store: RunStore, config: SearchConfig, proposer: Proposer, onProgress: ((SearchProgress) -> Void)?,
                           onEvent: ((String) -> Void)?) async throws -> RunReport {
        let controller = SearchController(store: store, config: config, proposer: proposer,
                                          evaluator: config.makeEvaluator(runDirectory: store.directory))
        controller.onProgress = onProgress
        controller.onEvent = onEvent
        _ = try await controller.run()
        let report = try RunReport(store: store)
        try report.writeFiles(store: store)
        return report
    }

    /// The most accurate trained front member, named `demo-<hash8>` and written to `chosen.json` in `outDir`.
    public static func choose(_ report: RunReport, runDirectory: URL, outDir: URL) throws -> (EvaluatedCandidate, ArchitectureSpec) {
        guard let best = report.frontSortedByScore().first(where: { $0.accuracy != nil }) else {
            throw SearchError("demo", "the search produced no trained candidate inside the budget; see \(runDirectory.path)/candidates.csv")
        }
        var chosen = best.spec
        chosen.name = "demo-\(best.hash.prefix(8))"
        try AtomicFile.write(chosen.jsonText(), to: outDir.appendingPathComponent("chosen.json"))
        return (best, chosen)
    }
}
