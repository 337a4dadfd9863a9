import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining
import XCTest

/// `export --format c --patch`: the library runs the plan in the plan's arena, and the
/// manifest and README state it; a TFLite export refuses `--patch`.
final class ExportPatchTests: XCTestCase {
    func testPatchedCExportStatesAndRunsThePlan() throws {
        let net = try Network(spec: coverageSpecs[0], seed: 3, threads: 1)
        let d = try SyntheticData.generate(SyntheticConfig(classes: 5, size: 12, channels: 3, trainCount: 32, testCount: 4, noise: 0.1, seed: 3))
        let norm = Normalization.compute(from: d.train)
        var s = QuantizationSettings(); s.calibrationBatches = 2; s.calibrationBatchSize = 8
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: d.train, settings: s)
        let xs = try NetworkQuantization.int8Inputs(q, spec: net.plan.spec, data: d.test, normalization: norm, count: 2)
        let schedule = KernelSchedule(plan: net.plan)
        let decision = try PatchPlanner.decide(schedule, setting: .fixed(grid: 2, split: .block(1)))
        let plan = try XCTUnwrap(decision.plan)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-export-patch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("c")
        let summary = try ExportBundle.write(q, plan: net.plan, normalization: norm, format: .c, to: dir, target: .stm32f746,
                                             source: "test", testInput: xs[0], patch: decision)
        XCTAssertEqual(summary.arenaBytes, plan.arenaBytes)
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let memory = m["memory"] as! [String: Any], patch = m["patch"] as! [String: Any]
        XCTAssertEqual(memory["arena_bytes"] as? Int, plan.arenaBytes)
        XCTAssertEqual(memory["per_layer_arena_bytes"] as? Int, decision.perLayerArena)
        XCTAssertEqual((patch["plan"] as! [String: Any])["grid"] as? Int, 2)
        XCTAssertEqual((patch["plan"] as! [String: Any])["extra_macs"] as? Int, plan.extraMACs)
        let header = try String(contentsOf: dir.appendingPathComponent("model.h"), encoding: .utf8)
        XCTAssertTrue(header.contains("#define TF_MODEL_ARENA_BYTES \(plan.arenaBytes)\n"), header)
        XCTAssertTrue(header.contains("#define TF_MODEL_PER_LAYER_ARENA_BYTES \(decision.perLayerArena)\n"), header)
        let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("## Patch-based inference (--patch 2x2@1)"), readme)
        XCTAssertTrue(readme.contains("| arena, patched (`TF_MODEL_ARENA_BYTES`) | \(plan.arenaBytes) |"), readme)

        XCTAssertThrowsError(try ExportBundle.write(q, plan: net.plan, normalization: norm, format: .tflite, to: root.appendingPathComponent("t"),
                                                    target: .stm32f746, source: "test", patch: decision)) { e in
            XCTAssertTrue("\(e)".contains("--format c"), "\(e)")
        }
        // The trained network's own lowering (BN folded) runs the plan in C byte-equal to Swift.
        if (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/cc") }) {
            let r = try DeployCheck.runHost(model: q.model, inputs: xs, workDir: root.appendingPathComponent("host"), patch: (plan, schedule))
            XCTAssertTrue(r.outputsMatch, "\(r.samples.map(\.mismatches))")
            XCTAssertEqual(r.arenaBytes, plan.arenaBytes)
        }
    }

    /// A two-stage plan (the `--patch` value of the first valid pair): manifest `stages`,
    /// README bullets per stage, `TF_MODEL_PATCH_STAGES`, host C == Swift in the planned arena.
    func testTwoStageCExportStatesAndRunsThePlan() throws {
        let net = try Network(spec: coverageSpecs[0], seed: 3, threads: 1)
        let d = try SyntheticData.generate(SyntheticConfig(classes: 5, size: 12, channels: 3, trainCount: 32, testCount: 4, noise: 0.1, seed: 3))
        let norm = Normalization.compute(from: d.train)
        var s = QuantizationSettings(); s.calibrationBatches = 2; s.calibrationBatchSize = 8
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: d.train, settings: s)
        let xs = try NetworkQuantization.int8Inputs(q, spec: net.plan.spec, data: d.test, normalization: norm, count: 2)
        let schedule = KernelSchedule(plan: net.plan)
        let first = try XCTUnwrap(PatchPlanner.candidates(schedule).first { $0.stage.grid == 2 })
        let second = try XCTUnwrap(PatchPlanner.laterStages(schedule).first { $0.grid == 2 && $0.startOp >= first.stage.splitOp })
        let setting = try PatchSetting(parsing: "\(first.stage.setting)+\(second.setting)")
        let decision = try PatchPlanner.decide(schedule, setting: setting)
        let plan = try XCTUnwrap(decision.plan)
        XCTAssertEqual(plan.stages.count, 2)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-export-patch2-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("c")
        let summary = try ExportBundle.write(q, plan: net.plan, normalization: norm, format: .c, to: dir, target: .stm32f746,
                                             source: "test", testInput: xs[0], patch: decision)
        XCTAssertEqual(summary.arenaBytes, plan.arenaBytes)
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let p = (m["patch"] as! [String: Any])["plan"] as! [String: Any]
        XCTAssertEqual(p["setting"] as? String, plan.setting)
        XCTAssertEqual((p["stages"] as? [[String: Any]])?.map { $0["setting"] as? String }, plan.stages.map(\.setting))
        XCTAssertEqual((m["memory"] as! [String: Any])["arena_bytes"] as? Int, plan.arenaBytes)
        let header = try String(contentsOf: dir.appendingPathComponent("model.h"), encoding: .utf8)
        XCTAssertTrue(header.contains("#define TF_MODEL_PATCH_STAGES 2\n"), header)
        let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("model.c runs 2 patch stage(s) (`\(plan.setting)`)"), readme)
        XCTAssertTrue(readme.contains("- `\(second.setting)`: from \(second.start!.startPhrase)"), readme)
        if (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/cc") }) {
            let r = try DeployCheck.runHost(model: q.model, inputs: xs, workDir: root.appendingPathComponent("host"), patch: (plan, schedule))
            XCTAssertTrue(r.outputsMatch, "\(r.samples.map(\.mismatches))")
            XCTAssertEqual(r.arenaBytes, plan.arenaBytes)
        }
    }
}
