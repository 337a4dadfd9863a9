import Foundation
import TinyForgeDeploy
import XCTest

/// The generated library on a Cortex-M7: built with arm-none-eabi-gcc (-mcpu=cortex-m7
/// -mfpu=fpv5-d16 -mfloat-abi=hard -O2), run under `qemu-system-arm -M mps2-an500` with
/// semihosting, outputs compared byte for byte with `Int8Interpreter`. Skips when the
/// toolchain is absent (apt-get install -y gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm).
/// Run alone: swift test --filter QEMUDeployTests
final class QEMUDeployTests: XCTestCase {
    func check(_ model: QuantizedModel, samples: Int, seed: UInt64, tag: String,
               file: StaticString = #filePath, line: UInt = #line) throws -> DeployCheckReport {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-qemu-\(UUID().uuidString)")
        defer { if ProcessInfo.processInfo.environment["TINYFORGE_CGEN_KEEP"] != "1" { try? FileManager.default.removeItem(at: dir) } }
        let report: DeployCheckReport
        do {
            report = try DeployCheck.run(model: model, inputs: DeployModelZoo.inputs(model, count: samples, seed: seed), workDir: dir)
        } catch let e as DeployToolError {
            if case .toolMissing = e { throw XCTSkip(e.description) }
            throw e
        }
        print("QEMU-DEPLOY \(tag): \(report.summary)")
        XCTAssertEqual(report.samples.count, samples, file: file, line: line)
        for s in report.samples {
            XCTAssertEqual(s.actual.count, s.expected.count, "\(tag) sample \(s.index): output length", file: file, line: line)
            XCTAssertEqual(s.mismatches, 0, "\(tag) sample \(s.index): \(s.mismatches) bytes differ (max |Δ| \(s.maxAbsDiff))", file: file, line: line)
            XCTAssertGreaterThanOrEqual(Set(s.expected).count, 2, "\(tag): degenerate output", file: file, line: line)
        }
        // The linker's arena is the planned one; RAM covers it; the stack was really used.
        XCTAssertEqual(report.arenaLinkedBytes, report.arenaPlannedBytes, "\(tag): linked arena", file: file, line: line)
        XCTAssertGreaterThanOrEqual(report.sections[".bss"] ?? 0, report.arenaPlannedBytes, file: file, line: line)
        XCTAssertGreaterThan(report.stackUsedBytes, 0, file: file, line: line)
        XCTAssertLessThan(report.stackUsedBytes, report.stackReservedBytes, file: file, line: line)
        XCTAssertGreaterThan(report.flashBytes, report.constantBytes + report.sampleBytes, file: file, line: line)
        return report
    }

    /// MBConv with leaky_relu fused into the expand conv and the in-place depthwise, SE
    /// (mean → fc → relu → fc+logistic → in-place mul) and the in-place residual add.
    func testMBConvLeakySEResidual() throws {
        _ = try check(try DeployModelZoo.mbconv(act: .leaky, seed: 70), samples: 3, seed: 70, tag: "mbconv leaky SE residual")
    }

    /// Swish (LOGISTIC+MUL) and hard-swish fused into conv and depthwise, stride 2 depthwise.
    func testFusedSwishAndHardSwish() throws {
        _ = try check(try DeployModelZoo.depthwise(k: 5, stride: 1, act: .swish, seed: 62), samples: 2, seed: 62, tag: "dw5 swish in place")
        _ = try check(try DeployModelZoo.depthwise(k: 3, stride: 2, act: .hswish, seed: 63), samples: 2, seed: 63, tag: "dw3 s2 hswish")
    }

    /// conv 3×3 s2 + hswish, average pool, standalone leaky, mean, per-tensor FC, softmax.
    func testClassifier() throws {
        _ = try check(try DeployModelZoo.classifier(seed: 80), samples: 4, seed: 80, tag: "classifier")
    }
}
