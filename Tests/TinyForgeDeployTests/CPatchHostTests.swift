import Foundation
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec
import XCTest

/// The generated C library executing the cost model's patch plans, compiled with the host
/// `cc -std=c99 -Wall -Wextra -Werror -O2`: output bytes equal the Swift int8 engine's, and the
/// arena the binary links (`nm -S`) is the plan's patch arena. Skips without `cc`.
final class CPatchHostTests: XCTestCase {
    override func setUpWithError() throws {
        if Self.tool("cc") == nil { throw XCTSkip("no host C compiler 'cc' on PATH (apt-get install -y gcc)") }
    }

    static func tool(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Size of `symbol` in the host binary, from `nm -S` (nil without nm).
    static func linkedSize(_ symbol: String, binary: URL) throws -> Int? {
        guard let nm = tool("nm") else { return nil }
        let p = Process(), pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: nm)
        p.arguments = ["-S", binary.path]
        p.standardOutput = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 4, f[3] == symbol { return Int(f[1], radix: 16) }
        }
        return nil
    }

    /// Runs `plan` in C on `samples` inputs; asserts equal bytes and the linked arena.
    func assertPatchedHost(_ net: QuantizedNetwork, plan: PatchPlan, schedule: KernelSchedule, inputs: [[Int8]], tag: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-cpatch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try DeployCheck.runHost(model: net.model, inputs: inputs, workDir: dir, patch: (plan, schedule))
        for s in r.samples {
            XCTAssertEqual(s.mismatches, 0, "\(tag) sample \(s.index): \(s.mismatches) of \(s.expected.count) bytes differ")
        }
        XCTAssertEqual(r.arenaBytes, plan.arenaBytes, "\(tag): library arena vs planned patch arena")
        let header = try String(contentsOf: dir.appendingPathComponent("model.h"), encoding: .utf8)
        XCTAssertTrue(header.contains("#define TF_MODEL_ARENA_BYTES \(plan.arenaBytes)\n"), "\(tag): TF_MODEL_ARENA_BYTES")
        XCTAssertTrue(header.contains("#define TF_MODEL_PATCH_GRID \(plan.stage.grid)\n"), tag)
        if let linked = try Self.linkedSize("arena", binary: dir.appendingPathComponent("model_host")) {
            XCTAssertEqual(linked, plan.arenaBytes, "\(tag): linked arena")
        }
    }

    func testPatchedLibrariesMatchTheInt8EngineOnRandomSpecs() throws {
        var rng = SeededGenerator(seed: 1516)
        var runs = 0, halos = 0
        for (n, spec) in PatchExecutionTests.specs(count: 12, seed: 16).enumerated() {
            let lp = LayerPlan(spec: spec)
            let schedule = KernelSchedule(plan: lp)
            let plans = PatchPlanner.candidates(schedule).filter { $0.stage.grid <= 4 }
            guard !plans.isEmpty else { continue }
            let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: UInt64(n), images: 2)
            let inputs = images.map { net.quantizeInput($0[...]) }
            for plan in [plans.last!, plans.randomElement(using: &rng)!] {
                try assertPatchedHost(net, plan: plan, schedule: schedule, inputs: inputs,
                                      tag: "\(spec.shortHash) \(plan.stage.grid)x\(plan.stage.grid)@\(plan.stage.split)")
                runs += 1
                if plan.extraMACs > 0 { halos += 1 }
            }
        }
        XCTAssertGreaterThanOrEqual(runs, 16)
        XCTAssertGreaterThan(halos, 8, "most plans recompute halos")
    }

    /// Basic blocks with swish / hswish after the add (pre-activation tile buffers), SE, fused mbconv.
    func testPatchedLibrariesOnTheSpecZoo() throws {
        for spec in NetworkSpecZoo.all {
            let lp = LayerPlan(spec: spec)
            let schedule = KernelSchedule(plan: lp)
            let plans = PatchPlanner.candidates(schedule).filter { $0.stage.grid <= 3 }
            XCTAssertFalse(plans.isEmpty, spec.name ?? "")
            let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: 7, images: 1)
            for plan in [plans.first, plans.last].compactMap({ $0 }) {
                try assertPatchedHost(net, plan: plan, schedule: schedule, inputs: [net.quantizeInput(images[0][...])],
                                      tag: "\(spec.name ?? "") \(plan.stage.grid)x\(plan.stage.grid)@\(plan.stage.split)")
            }
        }
    }

    /// LMaNet-Elite at 160×160 under its auto plan (single-stage, as export and deploy-check
    /// choose it): patched C == Swift, arena below per-layer.
    func testPaperModelPatchedLibrary() throws {
        let lp = LayerPlan(spec: ReferenceNetworks.spec("lmanet-elite")!)
        let schedule = KernelSchedule(plan: lp)
        let d = try PatchPlanner.decide(schedule, setting: .auto, maxStages: 1)
        let plan = try XCTUnwrap(d.plan)
        XCTAssertLessThan(plan.arenaBytes, d.perLayerArena)
        let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: 15, images: 1)
        try assertPatchedHost(net, plan: plan, schedule: schedule, inputs: [net.quantizeInput(images[0][...])], tag: "lmanet-elite")
    }

    /// QwNet-Core at 160×160 under its two-stage auto plan and a fixed three-stage plan (the
    /// middle one from after block 1's SE to block 2's SE): patched C == Swift, linked arena
    /// == planned, below the paper's 227 KB.
    func testQwNetCoreMultiStageLibraries() throws {
        let lp = LayerPlan(spec: ReferenceNetworks.spec("qwnet-core")!)
        let schedule = KernelSchedule(plan: lp)
        let auto = try XCTUnwrap(try PatchPlanner.decide(schedule, setting: .auto).plan)
        XCTAssertEqual(auto.stages.count, 2, auto.setting)
        let three = try XCTUnwrap(try PatchPlanner.decide(schedule, setting: PatchSetting(parsing: "4x4@1.se+2x2@1.se..2.se+3x3@3..5")).plan)
        XCTAssertEqual(three.stages.count, 3)
        let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: 15, images: 1)
        for plan in [auto, three] {
            XCTAssertLessThanOrEqual(plan.arenaBytes, 227_000, plan.setting)
            try assertPatchedHost(net, plan: plan, schedule: schedule, inputs: [net.quantizeInput(images[0][...])], tag: "qwnet-core \(plan.setting)")
            let ip = try Int8Interpreter(model: net.model)
            let x = net.quantizeInput(images[0][...])
            XCTAssertEqual(try ip.runPatched(inputs: [x], stages: Int8PatchStage.stages(plan, interpreter: ip, schedule: schedule)),
                           try ip.run(inputs: [x]), plan.setting)
        }
    }

    /// Two-stage plans (and single stages after the input) of random specs: C == Swift,
    /// linked arena == planned.
    func testMultiStageLibrariesMatchTheInt8EngineOnRandomSpecs() throws {
        var rng = SeededGenerator(seed: 1517)
        var runs = 0, twoStage = 0
        for (n, spec) in PatchExecutionTests.specs(count: 12, seed: 17).enumerated() {
            let lp = LayerPlan(spec: spec)
            let schedule = KernelSchedule(plan: lp)
            let firsts = PatchPlanner.candidates(schedule).filter { $0.stage.grid <= 3 }
            let seconds = PatchPlanner.laterStages(schedule).filter { $0.grid <= 3 }
            guard let lone = seconds.randomElement(using: &rng) else { continue }
            var plans = [try PatchPlan(stages: [lone], schedule: schedule)]
            let pairs = firsts.flatMap { f in seconds.filter { $0.startOp >= f.stage.splitOp }.map { [f.stage, $0] } }
            if let pair = pairs.randomElement(using: &rng) { plans.append(try PatchPlan(stages: pair, schedule: schedule)) }
            let (net, images) = try LayerPlanToQuantized.calibrated(lp, seed: UInt64(n), images: 2)
            let inputs = images.map { net.quantizeInput($0[...]) }
            for plan in plans {
                try assertPatchedHost(net, plan: plan, schedule: schedule, inputs: inputs, tag: "\(spec.shortHash) \(plan.setting)")
                runs += 1
                if plan.stages.count == 2 { twoStage += 1 }
            }
        }
        XCTAssertGreaterThanOrEqual(runs, 12)
        XCTAssertGreaterThanOrEqual(twoStage, 4, "some draws get two stages")
        print("multi-stage C libraries: \(runs), two-stage \(twoStage)")
    }

    /// A plan of another network is refused with the reason, not emitted.
    func testPlanOfAnotherNetworkIsRefused() throws {
        let a = KernelSchedule(plan: LayerPlan(spec: NetworkSpecZoo.dsMB))
        let b = LayerPlan(spec: NetworkSpecZoo.convBasic)
        let plan = try XCTUnwrap(PatchPlanner.candidates(a).first)
        let model = try LayerPlanToQuantized.model(b, seed: 1)
        XCTAssertThrowsError(try CCodeGenerator(model: model, patch: (plan, a))) { e in
            guard case DeployError.patchStage = e else { return XCTFail("\(e)") }
        }
    }
}
