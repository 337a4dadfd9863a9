import Foundation
import TinyForgeHardware
import TinyForgeSearch
import TinyForgeSpec
import XCTest
import GRDB
typealias GRDBRow = GRDB.Row

/// A fresh temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase, _ name: String = "run") -> URL {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("tf-search-\(UUID().uuidString)").appendingPathComponent(name)
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: d.deletingLastPathComponent()) }
    return d
}

/// mcu28 with a budget tight enough that a fair share of random samples are rejected.
let testBudget = Budget(sramBytes: 64 * 1024, flashBytes: 256 * 1024, macs: 5_000_000)
let testTask = TaskInfo(dataset: "synthetic:classes=10", numClasses: 10)

func testConfig(proposer: String = "random", trials: Int = 30, batch: Int = 4, workers: Int = 1, seed: UInt64 = 1,
                evaluator: String = "synthetic") -> SearchConfig {
    var c = SearchConfig(space: .mcu28, task: testTask, target: .stm32f746, budget: testBudget, proposer: proposer,
                         trials: trials, batch: batch, workers: workers,
                         settings: EvaluationSettings(dataset: testTask.dataset, epochs: 3, subset: 0.1, seed: seed),
                         seed: seed, evaluator: evaluator)
    c.populationSize = 8
    c.tournamentSize = 3
    return c
}

func testValidator(seen: [String: String] = [:]) -> CandidateValidator {
    CandidateValidator(space: .mcu28, task: testTask, target: .stm32f746, budget: testBudget, seen: seen)
}

func testContext(archive: ParetoArchive? = nil, iteration: Int = 0, seed: UInt64 = 1) throws -> ProposalContext {
    let os = try ObjectiveSpace(objectives: ObjectiveSpace.defaultObjectives(for: testBudget), budget: testBudget)
    return ProposalContext(space: .mcu28, task: testTask, target: .stm32f746, budget: testBudget,
                           archive: archive ?? ParetoArchive(objectiveSpace: os), recentRejections: [], iteration: iteration,
                           rng: SeededGenerator(seed: seed, stream: UInt64(iteration)), validator: testValidator())
}

/// Runs a whole search in `dir` and returns the store.
@discardableResult
func runSearch(_ config: SearchConfig, in dir: URL, proposer: Proposer? = nil, evaluator: Evaluator? = nil,
               stopAfter: Int? = nil) async throws -> (RunStore, SearchSummary) {
    let store = FileManager.default.fileExists(atPath: dir.appendingPathComponent(RunStore.fileName).path)
        ? try RunStore.open(directory: dir) : try RunStore.create(directory: dir, config: config)
    let c = SearchController(store: store, config: config, proposer: proposer ?? config.makeClassicProposer()!,
                             evaluator: evaluator ?? config.makeEvaluator(runDirectory: dir))
    c.stopAfterEvaluations = stopAfter
    return (store, try await c.run())
}

/// Rows of (candidate id, hash, eval count) for every evaluated candidate.
func evaluationRows(_ store: RunStore) throws -> [(id: Int64, hash: String, count: Int)] {
    try store.read { db in
        try GRDBRow.fetchAll(db, sql: """
            SELECT c.id, c.hash, COUNT(e.id) AS n FROM candidates c JOIN evaluations e ON e.candidate_id = c.id
            WHERE c.run_id = ? GROUP BY c.id ORDER BY c.id
            """, arguments: [store.runID]).map { ($0["id"], $0["hash"], $0["n"]) }
    }
}
