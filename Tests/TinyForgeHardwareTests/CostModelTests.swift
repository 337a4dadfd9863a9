import XCTest
import TinyForgeSpec
@testable import TinyForgeHardware

final class CostModelTests: XCTestCase {
    /// Random architectures from every preset space: both runtimes' plans never overlap two
    /// live buffers, never beat the lower bound, and our runtime never needs more live bytes
    /// than TFLM at its worst step.
    func testMemoryPlansOverRandomArchitectures() throws {
        var rng = SeededGenerator(seed: 123)
        for space in SearchSpace.presets {
            for _ in 0..<60 {
                let spec = try space.sample(numClasses: 10, using: &rng)
                let r = CostModel.evaluate(spec, target: .stm32h743)
                for m in [r.memory, r.tflmMemory] {
                    XCTAssertFalse(MemoryPlanner.doAnyBuffersOverlap(m.plan, m.requests), space.name)
                    XCTAssertGreaterThanOrEqual(m.arenaBytes, m.lowerBound)
                    // The planner rounds sizes up to 16-byte alignment.
                    let rawPeak = m.steps.map(\.liveBytes).max()!
                    XCTAssertGreaterThanOrEqual(m.lowerBound, rawPeak)
                    XCTAssertLessThanOrEqual(m.lowerBound, rawPeak + 16 * m.requests.count)
                }
                XCTAssertLessThanOrEqual(r.memory.lowerBound, r.tflmMemory.lowerBound)
                XCTAssertEqual(r.params, r.plan.ops.reduce(0) { $0 + $1.params })
            }
        }
    }

    func spec(_ json: String) throws -> ArchitectureSpec { try ArchitectureSpec.decode(jsonText: json).spec }

    /// A residual layer keeps its input alive until the add: the live bytes at the project
    /// conv are input + depthwise output + project output (no in-place possible there).
    func testResidualInputStaysLive() throws {
        let s = try spec(#"{"input": {"height": 8, "width": 8, "channels": 16}, "num_classes": 2, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 2, "skip": "residual"}], "head": {"dropout": 0}}"#)
        let r = CostModel.evaluate(s, target: .stm32f746)
        let ops = r.plan.ops.map(\.role)
        let project = ops.firstIndex(of: "stages[0].layers[0].project")!
        let live = r.memory.liveBytesPerOp(opCount: ops.count)
        // x (8·8·16) + dw output in place over the expand output (8·8·32) + project output (8·8·16).
        XCTAssertEqual(live[project], 1024 + 2048 + 1024)
        let expandStep = ops.firstIndex(of: "stages[0].layers[0].expand")!
        XCTAssertEqual(live[expandStep], 1024 + 2048)
        // The depthwise ran in place over the expand output: the same buffer.
        let dwStep = r.memory.steps.first { r.plan.ops[$0.op].kind == .depthwiseConv2d }!
        XCTAssertTrue(dwStep.inPlace)
        XCTAssertEqual(dwStep.inputs[0], dwStep.output)
        // The dw step needs x + expand + one 8×8 plane of scratch = 3,136 B; the project step
        // 4,096 B; the scratch fits where the project output goes later.
        XCTAssertEqual(live[dwStep.op], 1024 + 2048 + 64)
        XCTAssertEqual(r.memory.arenaBytes, 4096)
    }

    /// TFLM runs leaky_relu as its own op, so the expand output exists twice.
    func testTFLMPlanCountsSeparateActivationTensors() throws {
        let s = try spec(#"{"input": {"height": 8, "width": 8, "channels": 8}, "num_classes": 2, "stages": [{"block": "mbconv", "out_channels": 8, "expansion": 4, "activation": "leaky_relu"}], "head": {"dropout": 0}}"#)
        let r = CostModel.evaluate(s, target: .stm32f746)
        XCTAssertTrue(r.tflmMemory.steps.contains { $0.kernel == "leaky_relu" })
        // At the leaky_relu after the expand conv: pre-activation 8·8·32 + its copy 8·8·32
        // (the input died at the expand conv).
        XCTAssertEqual(r.tflmMemory.lowerBound, 2048 + 2048)
        XCTAssertEqual(r.memory.lowerBound, 512 + 2048)
        XCTAssertLessThan(r.memory.arenaBytes, r.tflmMemory.arenaBytes)
    }

    func testSEBranchKeepsTensorAliveAndScalesInPlace() throws {
        let s = try spec(#"{"input": {"height": 8, "width": 8, "channels": 8}, "num_classes": 2, "stages": [{"block": "dsconv", "out_channels": 8, "se_ratio": 0.25}], "head": {"dropout": 0}}"#)
        let r = CostModel.evaluate(s, target: .stm32f746)
        XCTAssertEqual(r.plan.ops.map(\.kind), [.depthwiseConv2d, .globalAvgPool, .conv2d, .conv2d, .mul, .conv2d, .globalAvgPool, .fullyConnected])
        let mul = r.memory.steps.first { $0.kernel == "mul" }!
        XCTAssertTrue(mul.inPlace)
        // SE reduce: max(1, int(8·0.25)) = 2 channels with bias.
        XCTAssertEqual(r.plan.ops[2].params, 8 * 2 + 2)
    }

    func testBudgetViolationsNameTheBottleneck() throws {
        let spec = ReferenceNetworks.spec("mobilenetv2")!
        let r = CostModel.evaluate(spec, target: .stm32f746, budget: Budget(sramBytes: 320 * 1024, flashBytes: 1 << 20, macs: 100_000_000))
        XCTAssertFalse(r.fits)
        let kinds = Set(r.violations.map(\.kind))
        XCTAssertEqual(kinds, [.sram, .flash, .macs])
        let sram = r.violations.first { $0.kind == .sram }!.message
        XCTAssertTrue(sram.contains("peak SRAM") && sram.contains("> 320 KB at stages[") || sram.contains("at stem"), sram)
        let json = r.jsonValue()
        guard case .object(let o) = json, case .object(let b)? = o["budget"] else { return XCTFail() }
        XCTAssertEqual(b["fits"], .bool(false))
        XCTAssertEqual(o["macs"], .number(300_774_272))
    }

    func testUnits() throws {
        XCTAssertEqual(try Units.parseBytes("320KB", field: "--sram"), 327_680)
        XCTAssertEqual(try Units.parseBytes("1 MB", field: "--flash"), 1_048_576)
        XCTAssertEqual(try Units.parseBytes("512KiB", field: "--sram"), 524_288)
        XCTAssertEqual(try Units.parseBytes("65536", field: "--sram"), 65_536)
        XCTAssertEqual(try Units.parseCount("100M", field: "--macs"), 100_000_000)
        XCTAssertEqual(try Units.parseCount("2.5G", field: "--macs"), 2_500_000_000)
        XCTAssertThrowsError(try Units.parseBytes("lots", field: "--sram")) { XCTAssertTrue("\($0)".contains("--sram: \"lots\" is not a size; write e.g. 320KB")) }
        XCTAssertThrowsError(try Units.parseBytes("0KB", field: "--sram")) { XCTAssertTrue("\($0)".contains("must be positive")) }
        XCTAssertThrowsError(try Units.parseCount("100MB", field: "--macs"))
    }

    func testPaperModelsOnThePaperBudget() throws {
        for name in ["lmanet-elite", "lmanet-core", "qwnet-core"] {
            let r = CostModel.evaluate(ReferenceNetworks.spec(name)!, target: .stm32h743, budget: .paper)
            // Our runtime fuses activations and runs depthwise in place: every released model
            // fits 320 KB, while a stock TFLM plan needs more.
            XCTAssertLessThanOrEqual(r.peakSRAMBytes, 320 * 1024, name)
            XCTAssertLessThan(r.peakSRAMBytes, r.tflmMemory.arenaBytes, name)
        }
    }
}
