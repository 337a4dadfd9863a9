import Foundation
import XCTest
import TinyForgeSpec
@testable import TinyForgeHardware

/// Parameter and MAC counts of published networks, written in our format or imported from the
/// paper's JSON unchanged. Params are counted as PyTorch counts them (conv and linear weights
/// and biases, BN γ and β); MACs are conv + linear multiply-accumulates.
final class ReferenceCountTests: XCTestCase {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")

    func plan(_ relative: String) throws -> LayerPlan {
        let text = try String(contentsOf: Self.examples.appendingPathComponent(relative), encoding: .utf8)
        return LayerPlan(spec: try ArchitectureSpec.decode(jsonText: text, source: relative).spec)
    }

    func testPaperModelsExact() throws {
        let cases: [(String, Int, Int)] = [
            ("paper/LMaNet-Elite.json", 497_997, 81_963_264),
            ("paper/LMaNet-Core.json", 453_220, 76_432_000),
            ("paper/QwNet-Core.json", 154_749, 67_051_008),
        ]
        for (file, params, macs) in cases {
            let p = try plan(file)
            XCTAssertEqual(p.params, params, file)
            XCTAssertEqual(p.macs, macs, file)
        }
    }

    func testMobileNetV2() throws {
        let p = try plan("reference/mobilenetv2-1.0-224.json")
        XCTAssertEqual(p.params, 3_504_872)  // torchvision mobilenet_v2()
        XCTAssertEqual(p.macs, 300_774_272)   // ≈300 M MACs as published
    }

    /// The same network with its first block written as an expansion-1 mbconv: no expansion
    /// conv (as torchvision, timm and Keras build it), so the counts are torchvision's.
    func testMobileNetV2WithExpansionOneMBConv() throws {
        var spec = try plan("reference/mobilenetv2-1.0-224.json").spec
        XCTAssertEqual(spec.stages[0].block, .dsconv)
        spec.stages[0].block = .mbconv
        spec.stages[0].expansion = 1
        let p = LayerPlan(spec: spec)
        XCTAssertEqual(p.params, 3_504_872)
        XCTAssertEqual(p.macs, 300_774_272)
        XCTAssertFalse(p.ops.contains { $0.opRole == .block(stage: 0, layer: 0, part: .expand) })
    }

    func testMLPerfTinyResNet8() throws {
        let p = try plan("reference/mlperf-tiny-resnet8.json")
        // Keras reports 78,666 = 78,186 trainable + 480 BN moving statistics.
        XCTAssertEqual(p.params, 78_186)
        XCTAssertEqual(p.params + 2 * p.ops.filter(\.batchNorm).reduce(0) { $0 + $1.outChannels }, 78_666)
        XCTAssertEqual(p.macs, 12_501_632)
    }

    func testMLPerfTinyVWW() throws {
        let p = try plan("reference/mlperf-tiny-vww-mobilenetv1-0.25.json")
        // Keras reports 221,794 = 216,322 trainable + 2 × 2,736 BN moving statistics; 7.49 M MACs.
        XCTAssertEqual(p.params, 216_322)
        XCTAssertEqual(p.params + 2 * p.ops.filter(\.batchNorm).reduce(0) { $0 + $1.outChannels }, 221_794)
        XCTAssertEqual(p.macs, 7_489_664)
    }
}
