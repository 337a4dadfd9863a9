import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSearch
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// The finish step: selection rules, the `finished` table, resume/skip logic (with a counting
/// stand-in trainer) and one real 1-epoch training on generated data.
final class FinishTests: XCTestCase {
    func member(_ id: Int64, acc: Double, macs: Int, sramKB: Int, flashKB: Int) throws -> EvaluatedCandidate {
        var rng = SeededGenerator(seed: 7, stream: UInt64(id))
        let spec = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        return EvaluatedCandidate(id: id, hash: spec.canonicalHash, spec: spec,
                                  cost: CostSummary(macs: macs, params: 1000, peakSRAMBytes: sramKB * 1024, flashBytes: flashKB * 1024, latencyMs: 1),
                                  result: EvaluationResult(status: .ok, valAccuracy: acc), proposer: "test")
    }

    func testSelectionRules() throws {
        let space = try ObjectiveSpace(objectives: [.accuracy, .macs, .sram, .flash], budget: testBudget)
        let a = try member(1, acc: 0.90, macs: 4_000_000, sramKB: 60, flashKB: 200)  // big, best
        let b = try member(2, acc: 0.88, macs: 3_800_000, sramKB: 58, flashKB: 190) // next to a
        let c = try member(3, acc: 0.70, macs: 1_000_000, sramKB: 20, flashKB: 50)  // small
        let d = try member(4, acc: 0.80, macs: 2_500_000, sramKB: 40, flashKB: 120) // middle
        let front = [c, a, d, b]
        func ids(_ k: Int, _ r: FinishRule) -> [Int64] { FinishSelection.select(front, k: k, rule: r, space: space).map(\.id) }
        XCTAssertEqual(ids(3, .accuracy), [1, 2, 4])
        // a first; c is farthest from a; d (min distance ≈ 0.51 to c) beats b (≈ 0.06 to a).
        XCTAssertEqual(ids(3, .spread), [1, 3, 4])
        XCTAssertEqual(ids(1, .spread), [1])
        // Squared distances to the ideal after min–max normalisation: d 0.97, c 1, b 2.65, a 3.
        XCTAssertEqual(ids(4, .knee), [4, 3, 2, 1])
        XCTAssertEqual(ids(9, .accuracy).count, 4, "k larger than the front takes the whole front")
        XCTAssertThrowsError(try FinishRule.parse("best")) { XCTAssertTrue("\($0)".contains("--select")) }
    }

    /// Writes a marker model file; counts calls; outcome chosen per call.
    final class CountingTrainer {
        var calls: [String] = []
        var outcome: (EvaluatedCandidate) throws -> FinishOutcome = { m in
            FinishOutcome(valAccuracy: 0.5 + Double(m.id % 7) / 100, valLoss: 1, epochs: 3, seconds: 0.01)
        }
        func train(_ m: EvaluatedCandidate, _ dir: URL) throws -> FinishOutcome {
            calls.append(m.hash)
            let o = try outcome(m)
            if o.failureReason == nil { try Data("weights".utf8).write(to: dir.appendingPathComponent(FinishStep.modelFileName)) }
            return o
        }
    }

    func settings(epochs: Int = 3) -> FinishSettings {
        FinishSettings(epochs: epochs, teacher: nil, json: "{\"epochs\":\(epochs)}")
    }

    func testStoreRoundTripAndResume() async throws {
        let dir = temporaryDirectory(self)
        let (store, summary) = try await runSearch(testConfig(proposer: "random", trials: 16), in: dir)
        XCTAssertGreaterThanOrEqual(summary.front.count, 2)
        let t = CountingTrainer()
        let step = try FinishStep(store: store, top: 2, rule: .spread, settings: settings())
        let members = try step.members()
        XCTAssertEqual(members.count, 2)

        var r = try step.run(train: t.train)
        XCTAssertEqual(t.calls, members.map(\.hash))
        XCTAssertEqual(r.map(\.1), [.trained, .trained])
        let rows = try store.finishedRecords()
        XCTAssertEqual(Set(rows.map(\.hash)), Set(members.map(\.hash)))
        for row in rows {
            let m = members.first { $0.hash == row.hash }!
            XCTAssertEqual(row.status, .done)
            XCTAssertEqual(row.proxyScore, m.accuracy)
            XCTAssertEqual(row.valAccuracy, 0.5 + Double(m.id % 7) / 100)
            XCTAssertEqual(row.macs, m.cost.macs); XCTAssertEqual(row.flashBytes, m.cost.flashBytes)
            XCTAssertEqual(row.epochs, 3); XCTAssertFalse(row.distilled); XCTAssertEqual(row.attempts, 1)
            XCTAssertEqual(row.selection, "spread")
        }
        let summaryJSON = try JSONValue.parse(Data(contentsOf: dir.appendingPathComponent(FinishStep.summaryFileName)))
        guard case .object(let o) = summaryJSON, case .array(let models)? = o["models"], case .object(let first)? = models.first else {
            return XCTFail("finished.json has no models array")
        }
        XCTAssertEqual(models.count, 2)
        for key in ["hash", "proxy_synthetic_score", "finished_val_accuracy", "epochs", "distilled", "teacher", "seconds",
                    "macs", "peak_sram_bytes", "flash_bytes", "model", "status"] {
            XCTAssertNotNil(first[key], key)
        }
        XCTAssertTrue(try RunReport(store: store).text().contains("Finished models (2"))

        // Same settings again: nothing is retrained.
        t.calls = []
        r = try step.run(train: t.train)
        XCTAssertEqual(t.calls, [])
        XCTAssertEqual(r.map(\.1), [.skipped, .skipped])

        // Interrupted (marked training, no result): only that member is retrained.
        try store.markFinishing(members[0], settings: settings(), selection: "spread", rank: 0)
        r = try step.run(train: t.train)
        XCTAssertEqual(t.calls, [members[0].hash])
        XCTAssertEqual(try store.finishedRecord(hash: members[0].hash)?.attempts, 3, "first training, the interrupted one, this one")
        XCTAssertEqual(try store.finishedRecord(hash: members[0].hash)?.status, .done)

        // A done row whose model file vanished is retrained.
        t.calls = []
        try FileManager.default.removeItem(at: step.directory(of: members[1].hash).appendingPathComponent(FinishStep.modelFileName))
        _ = try step.run(train: t.train)
        XCTAssertEqual(t.calls, [members[1].hash])

        // Other settings: both retrained; failures (returned or thrown) are recorded, not fatal.
        t.calls = []
        t.outcome = { m in
            if m.hash == members[0].hash { return FinishOutcome(valAccuracy: nil, valLoss: nil, epochs: 1, seconds: 0, failureReason: "diverged: loss nan") }
            throw SearchError("test", "the trainer broke")
        }
        let step5 = try FinishStep(store: store, top: 2, rule: .spread, settings: settings(epochs: 5))
        r = try step5.run(train: t.train)
        XCTAssertEqual(t.calls.count, 2)
        XCTAssertEqual(r.map(\.1), [.failed, .failed])
        XCTAssertEqual(try store.finishedRecord(hash: members[0].hash)?.reason, "diverged: loss nan")
        XCTAssertEqual(try store.finishedRecord(hash: members[1].hash)?.reason, "test: the trainer broke")
        XCTAssertFalse(FileManager.default.fileExists(atPath: step5.directory(of: members[0].hash).appendingPathComponent(FinishStep.modelFileName).path),
                       "a stale model from other settings must not survive a failed retraining")
        // Failed with these settings: seeded, so it would fail again; skipped.
        t.calls = []
        _ = try step5.run(train: t.train)
        XCTAssertEqual(t.calls, [])

        XCTAssertThrowsError(try FinishStep(store: store, top: 0, rule: .spread, settings: settings())) {
            XCTAssertTrue("\($0)".contains("--top"))
        }
    }

    /// A random search over a space of tiny networks (debug-build training takes seconds) and
    /// the synthetic 12×12 data the finish tests train on.
    private func tinySearch(stages: [Int], trials: Int) async throws -> (RunStore, DatasetSplits, Normalization) {
        var space = SearchSpace.mcu28
        space.resolutions = [12]; space.numStages = stages
        space.stageChoices.repeats = [1]; space.stageChoices.outChannels = [4, 8]; space.stageChoices.expansion = [2]
        space.stem?.outChannels = [4]; space.headConvChannels = [16]
        var c = testConfig(proposer: "random", trials: trials)
        c.spaceJSON = space.jsonValue().canonicalText()
        let (store, _) = try await runSearch(c, in: temporaryDirectory(self))
        let splits = try DatasetLoader.load(spec: try DatasetSource.parse("synthetic:classes=10,size=12,n=96,test=16,seed=3"),
                                            valFraction: 0.25, seed: 42)
        return (store, splits, Normalization.compute(from: splits.train))
    }

    /// Real training: two front members, 1 epoch on a few generated images, through the same
    /// `FinishTrainer` the CLI uses; the saved models reload and reproduce the recorded accuracy.
    func testRealOneEpochFinish() async throws {
        let (store, splits, norm) = try await tinySearch(stages: [1, 2], trials: 12)
        var config = TrainConfig()
        config.epochs = 1; config.batchSize = 16; config.schedule.baseLR = 0.05
        let trainer = FinishTrainer(splits: splits, normalization: norm, config: config, metadata: ["dataset": "synthetic"])
        let step = try FinishStep(store: store, top: 2, rule: .spread, settings: settings(epochs: 1))
        let r = try step.run(train: trainer.train)
        XCTAssertEqual(r.map(\.1), [.trained, .trained])
        for (row, _) in r {
            let d = step.directory(of: row.hash)
            for f in ["model.safetensors", "metrics.json", "architecture.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: d.appendingPathComponent(f).path), f)
            }
            let (net, contents) = try Checkpoint.load(d.appendingPathComponent(FinishStep.modelFileName).path)
            XCTAssertEqual(net.plan.spec.canonicalHash, row.hash)
            XCTAssertEqual(contents.metadata["distilled"], "no")
            let m = try Trainer.evaluate(net, on: splits.val, normalization: norm)
            XCTAssertEqual(m.accuracy, row.valAccuracy ?? -1, accuracy: 1e-12)
            XCTAssertEqual(row.epochs, 1)
        }

        // A learning rate that blows up: recorded as failed, no model, the step still completes.
        var wild = config
        wild.schedule.baseLR = 1e30
        let bad = FinishTrainer(splits: splits, normalization: norm, config: wild)
        let step2 = try FinishStep(store: store, top: 1, rule: .accuracy, settings: FinishSettings(epochs: 1, teacher: nil, json: "{\"lr\":1e30}"))
        let r2 = try step2.run(train: bad.train)
        XCTAssertEqual(r2.first?.1, .failed)
        XCTAssertTrue(r2.first?.0.reason?.contains("diverged") ?? false, r2.first?.0.reason ?? "no reason")
        XCTAssertFalse(FileManager.default.fileExists(atPath: step2.directory(of: r2[0].0.hash).appendingPathComponent(FinishStep.modelFileName).path))
    }

    /// `finish --kd-from finished`: each member is trained without the teacher, then its
    /// finished weights are distilled; metrics record both phases.
    func testFineTuneDistillsTheFinishedStudent() async throws {
        let (store, splits, norm) = try await tinySearch(stages: [1], trials: 6)
        var config = TrainConfig()
        config.epochs = 1; config.batchSize = 16; config.schedule.baseLR = 0.05
        config.distillation = DistillationConfig(alphaStart: 0.4, alphaEnd: 0.8, temperature: 10)
        let logits = (0..<(splits.train.count * 10)).map { Float($0 % 10 == Int(splits.train.labels[$0 / 10]) ? 5 : 0) }
        var trainer = FinishTrainer(splits: splits, normalization: norm, config: config, teacherLogits: logits, metadata: ["dataset": "synthetic"])
        trainer.fineTune = FinishTrainer.FineTune(epochs: 2, learningRate: 0.01)
        let step = try FinishStep(store: store, top: 1, rule: .accuracy, settings: settings(epochs: 1))
        let r = try step.run(train: trainer.train)
        XCTAssertEqual(r.map(\.1), [.trained])
        XCTAssertEqual(r[0].0.epochs, 3, "1 epoch without the teacher + 2 of distillation")
        let d = step.directory(of: r[0].0.hash)
        let contents = try Checkpoint.read(d.appendingPathComponent(FinishStep.modelFileName).path)
        XCTAssertEqual(contents.metadata["distilled"], "yes")
        XCTAssertEqual(contents.metadata["distillation_start"], "finished student")
        XCTAssertNotNil(Double(contents.metadata["val_accuracy_before_distillation"] ?? ""))
        let metrics = try String(contentsOf: d.appendingPathComponent("metrics.json"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("val_accuracy_before_distillation"), metrics)
    }
}
