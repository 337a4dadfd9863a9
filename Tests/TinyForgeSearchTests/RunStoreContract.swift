import Foundation
@testable import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// The run store's behaviour, written once and run on every backend (`RunStoreSQLiteTests`,
/// `RunStorePostgresTests`). The reference for equality is always a run directory (SQLite):
/// the same seeded search must leave the same rows in both backends.
struct RunStoreContract {
    let backend: StoreBackend
    let test: XCTestCase

    func search(_ config: SearchConfig, at location: StoreLocation, stopAfter: Int? = nil) async throws -> (RunStore, SearchSummary) {
        let store = try RunStore.exists(at: location) ? try RunStore.open(at: location) : try RunStore.create(at: location, config: config)
        let c = SearchController(store: store, config: config, proposer: config.makeClassicProposer()!,
                                 evaluator: config.makeEvaluator(runDirectory: store.directory))
        c.stopAfterEvaluations = stopAfter
        return (store, try await c.run())
    }

    /// A whole seeded search: same summary, same candidates.csv, same state as in a run directory.
    func searchMatchesRunDirectory() async throws {
        let config = testConfig(proposer: "nsga2", trials: 20, batch: 4, workers: 2)
        let (ref, r) = try await search(config, at: StoreBackend.sqlite.location(test, "ref"))
        let (store, s) = try await search(config, at: backend.location(test))
        XCTAssertEqual(s.status, "done")
        XCTAssertEqual(s.evaluations, r.evaluations)
        XCTAssertEqual(s.hypervolume, r.hypervolume, accuracy: 1e-12)
        XCTAssertEqual(try Self.csvWithoutTimes(store), try Self.csvWithoutTimes(ref))
        XCTAssertEqual(try store.statusCounts(), try ref.statusCounts())
        XCTAssertEqual(try store.hypervolumeHistory().map(\.frontSize), try ref.hypervolumeHistory().map(\.frontSize))
        XCTAssertEqual(try store.recentRejections().map(\.hash), try ref.recentRejections().map(\.hash))
        XCTAssertEqual(try store.config(), config)
        let report = try RunReport(store: store), refReport = try RunReport(store: ref)
        XCTAssertEqual(report.state.archive.front.map(\.hash), refReport.state.archive.front.map(\.hash))
        XCTAssertEqual(report.state.seen.count, refReport.state.seen.count)
        let files = try report.writeFiles(store: store)
        XCTAssertTrue(files.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "\(files)")
    }

    /// candidates.csv with the wall-clock `seconds` column blanked and `eval_index` sorted within
    /// each iteration (the fields that differ between two runs of the same seeded search), fields
    /// split respecting CSV quotes.
    static func csvWithoutTimes(_ store: RunStore) throws -> [[String]] {
        let text = try RunReport.candidatesCSV(store: store)
        var rows: [[String]] = [], field = "", row: [String] = [], quoted = false
        for ch in text {
            switch ch {
            case "\"": quoted.toggle(); field.append(ch)
            case "," where !quoted: row.append(field); field = ""
            case "\n" where !quoted: row.append(field); rows.append(row); row = []; field = ""
            default: field.append(ch)
            }
        }
        // Row ids are database-wide (a PostgreSQL database holds many runs): compare their order.
        let ids = rows.dropFirst().compactMap { Int64($0[0]) }.sorted()
        let rank = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        guard let seconds = rows.first?.firstIndex(of: "seconds") else { return rows }
        let normalized = rows.map { r in
            var r = r
            if r.count > seconds { r[seconds] = "" }
            if let id = Int64(r[0]), let k = rank[id] { r[0] = "#\(k)" }
            return r
        }
        return Self.evalIndicesSortedPerIteration(normalized)
    }

    /// `eval_index` is the order in which evaluations completed; with 2 workers two candidates of
    /// one batch can finish in either order (a loaded machine swaps them). The batch and the set of
    /// indices it used are fixed by the seed, so each iteration's indices are compared sorted, in
    /// row order: a candidate evaluated in another batch, or an index missing, still differs.
    static func evalIndicesSortedPerIteration(_ rows: [[String]]) -> [[String]] {
        guard let header = rows.first, let it = header.firstIndex(of: "iteration"),
              let ev = header.firstIndex(of: "eval_index") else { return rows }
        var out = rows
        let body = Array(rows.indices.dropFirst())
        for iteration in Set(body.map { rows[$0][it] }) {
            let members = body.filter { rows[$0][it] == iteration && !rows[$0][ev].isEmpty }
            let sorted = members.map { rows[$0][ev] }.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
            for (row, index) in zip(members, sorted) { out[row][ev] = index }
        }
        return out
    }

    /// Crashes mid-batch three times, then resumes from a freshly opened store: the run ends
    /// exactly like an uninterrupted one and no completed evaluation is repeated.
    func resumeAfterCrashes() async throws {
        let config = testConfig(proposer: "evolution", trials: 24, batch: 4, workers: 2)
        let (ref, r) = try await search(config, at: StoreBackend.sqlite.location(test, "ref"))
        let location = backend.location(test)
        for stop in [5, 9, 3] {
            let (store, s) = try await search(config, at: location, stopAfter: stop)
            XCTAssertEqual(s.status, "interrupted")
            XCTAssertGreaterThan(try store.statusCounts()["evaluating"] ?? 0, 0, "the crash should leave a candidate mid-evaluation")
            store.close()
        }
        let (store, s) = try await search(config, at: location)
        XCTAssertEqual(s.status, "done")
        XCTAssertGreaterThan(s.reEvaluated, 0)
        XCTAssertEqual(try store.evaluationCount(), 24)
        XCTAssertEqual(s.hypervolume, r.hypervolume, accuracy: 1e-12)
        let csv = try Self.csvWithoutTimes(store).map { $0.prefix(4) }, refCSV = try Self.csvWithoutTimes(ref).map { $0.prefix(4) }
        XCTAssertEqual(csv, refCSV, "order, iteration, hash and status of every candidate as in the uninterrupted run")
    }

    /// Proposals stored, one candidate marked evaluating, then the process "dies".
    func pendingCandidates() async throws {
        let config = testConfig(proposer: "random", trials: 8, batch: 4)
        let store = try RunStore.create(at: backend.location(test), config: config)
        var validator = testValidator()
        var ctx = try testContext(iteration: 0)
        var outcomes: [ProposalOutcome] = []
        for p in try await RandomProposer().propose(count: 6, context: &ctx) {
            switch validator.validate(p, iteration: 0) {
            case .success(let a): outcomes.append(.accepted(a))
            case .failure(let r): outcomes.append(.rejected(p, r))
            }
        }
        let ids = try store.recordIteration(0, outcomes: outcomes)
        XCTAssertFalse(ids.isEmpty)
        try store.markEvaluating([ids[0]])
        try store.markEvaluating([ids[0]])
        let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        XCTAssertEqual(state.pending.map(\.id), ids)
        XCTAssertEqual(state.pending.map(\.wasInterrupted), [true] + Array(repeating: false, count: ids.count - 1))
        XCTAssertEqual(state.nextIteration, 1)
        XCTAssertEqual(state.status, RunStatus.running.rawValue)
        XCTAssertEqual(try store.candidateIDs(iteration: 0).count, ids.count + outcomes.filter { if case .rejected = $0 { true } else { false } }.count)
        try store.setStatus(.stalled)
        XCTAssertEqual(try store.loadState(objectiveSpace: try config.objectiveSpace()).status, "stalled")
    }

    /// `finish` rows: insert, result, re-mark (attempts counted), ordering; explanations replaced.
    func finishedAndExplanations() async throws {
        let (store, _) = try await search(testConfig(proposer: "random", trials: 10), at: backend.location(test))
        let front = try store.loadState(objectiveSpace: try store.config().objectiveSpace()).archive.front
        XCTAssertGreaterThanOrEqual(front.count, 2)
        let settings = FinishSettings(epochs: 3, teacher: nil, json: "{\"epochs\":3}")
        for (rank, m) in front.prefix(2).enumerated() { try store.markFinishing(m, settings: settings, selection: "spread", rank: rank) }
        try store.recordFinished(hash: front[1].hash, outcome: FinishOutcome(valAccuracy: 0.7, valLoss: 0.9, epochs: 3, seconds: 1, failureReason: nil))
        var rows = try store.finishedRecords()
        XCTAssertEqual(rows.map(\.hash), [front[1].hash, front[0].hash], "done first, then the one still training")
        XCTAssertEqual(rows.map(\.status), [.done, .training])
        XCTAssertEqual(rows[0].valAccuracy, 0.7)
        XCTAssertFalse(rows[0].distilled)
        try store.markFinishing(front[1], settings: settings, selection: "spread", rank: 1)
        rows = try store.finishedRecords()
        XCTAssertEqual(try store.finishedRecord(hash: front[1].hash)?.attempts, 2)
        XCTAssertNil(try store.finishedRecord(hash: front[1].hash)?.valAccuracy, "re-marking clears the old result")

        try store.saveExplanations([(front[0].hash, .object(["a": .number(1)])), (front[1].hash, .string("x"))])
        try store.saveExplanations([(front[0].hash, .object(["a": .number(2)]))])
        XCTAssertEqual(try store.explanationCount(), 2)
        XCTAssertEqual(try store.storedExplanation(hash: front[0].hash), .object(["a": .number(2)]))
        XCTAssertNil(try store.storedExplanation(hash: "nope"))
        XCTAssertEqual(try store.recentRepairs(proposerPrefix: "llm"), [])
        let tally = try store.slotTally()
        XCTAssertEqual([tally.hits, tally.misses, tally.unchecked], [0, 0, 0])
        XCTAssertEqual(try store.candidates(status: .rejected).count, try store.statusCounts()["rejected"] ?? 0)
    }

    /// One writer at a time: a second writer is refused with `RunLockError.held` naming this
    /// process; readers work meanwhile; after the holder closes, the run opens again.
    func secondWriterRefused() throws {
        let location = backend.location(test)
        let first = try RunStore.create(at: location, config: testConfig(), lock: .init(command: "search"))
        XCTAssertThrowsError(try RunStore.open(at: location, lock: .init(command: "finish"))) { e in
            guard case RunLockError.held(_, let holder?, false) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(holder.pid, getpid())
            XCTAssertEqual(holder.command, "search")
            XCTAssertTrue("\(e)".contains("only one command may write a run at a time"), "\(e)")
        }
        XCTAssertThrowsError(try RunStore.create(at: location, config: testConfig())) { XCTAssertTrue("\($0)".contains("--resume"), "\($0)") }
        let reader = try RunStore.openReadOnly(at: location)
        XCTAssertTrue(reader.isReadOnly)
        XCTAssertEqual(try reader.config(), testConfig())
        first.close()
        let again = try RunStore.open(at: location, lock: .init(command: "finish"))
        XCTAssertFalse(again.isReadOnly)
        XCTAssertEqual(again.runID, first.runID)
    }
}
