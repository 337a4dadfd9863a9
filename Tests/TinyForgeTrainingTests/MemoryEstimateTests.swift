import XCTest
import TinyForgeData
import TinyForgeHardware
import TinyForgeSpec
@testable import TinyForgeTraining

/// The memory estimate refuses what cannot fit before anything is allocated, and counts what
/// the engine really holds (checked against measured RSS in bench/reliability/integrity.md).
final class MemoryEstimateTests: XCTestCase {
    func spec(_ resolution: Int) -> ArchitectureSpec {
        tinySpec(#"[{"block": "conv", "out_channels": 16, "stride": 2}, {"block": "mbconv", "out_channels": 24, "expansion": 4, "stride": 2, "skip": "residual"}]"#,
                 input: #"{"height": \#(resolution), "width": \#(resolution), "channels": 1}"#, classes: 10)
    }

    func testTermsFollowThePlan() throws {
        let plan = LayerPlan(spec: spec(28))
        let e = MemoryEstimate.of(plan, use: .training(batch: 64, validationImages: 1000, optimizer: .sgd), threads: 2, datasetBytes: 1000)
        let t = try XCTUnwrap(e.total)
        // Forward buffers: every conv keeps z and y (2 × output), at max(batch, 100) images.
        var forward = 0
        for op in plan.ops {
            let out = plan.tensors[op.output].elements
            switch op.kind {
            case .conv2d, .depthwiseConv2d: forward += MemoryEstimate.linksIntoReader(op, plan) ? out : 2 * out
            case .add: forward += op.activation == nil ? out : 2 * out
            default: forward += out
            }
        }
        XCTAssertEqual(e.parts.first { $0.name.hasPrefix("activations kept") }?.bytes, forward * 100 * 4)
        XCTAssertEqual(e.parts.first { $0.name == "weights, gradients, optimiser state" }?.bytes, plan.params * 4 * 3)
        let adam = MemoryEstimate.of(plan, use: .training(batch: 64, validationImages: 1000, optimizer: .adamw), threads: 2, datasetBytes: 1000)
        XCTAssertEqual(try XCTUnwrap(adam.total) - t, plan.params * 4)
        // Doubling the batch beyond the validation batch doubles the activation terms.
        let b200 = MemoryEstimate.of(plan, use: .training(batch: 200, validationImages: 1000, optimizer: .sgd), threads: 2, datasetBytes: 1000)
        let b400 = MemoryEstimate.of(plan, use: .training(batch: 400, validationImages: 1000, optimizer: .sgd), threads: 2, datasetBytes: 1000)
        let fixed = MemoryEstimate.processBaseline + 1000 + plan.params * 12 + e.parts.last!.bytes!
        XCTAssertEqual(b400.total! - fixed, 2 * (b200.total! - fixed))
        // A training batch different from the validation batch costs one more set of forward
        // buffers (reallocated on every switch); equal batches do not.
        XCTAssertEqual(e.parts.first { $0.name == "buffers freed when the batch shape changes" }?.bytes, forward * 64 * 4)
        XCTAssertEqual(b200.parts.first { $0.name == "buffers freed when the batch shape changes" }?.bytes, 0)
    }

    /// A conv read only by a depthwise or 1×1 conv hands its BN to that reader (as `Network`
    /// links them: here the first conv → expand → depthwise → project chain); the others do not.
    func testLinkedProducersAreTheOnesTheNetworkLinks() throws {
        let plan = LayerPlan(spec: spec(28))
        let linked = plan.ops.filter { MemoryEstimate.linksIntoReader($0, plan) }.map(\.role)
        XCTAssertEqual(linked, ["stages[0].layers[0].conv", "stages[1].layers[0].expand", "stages[1].layers[0].dw"])
        let net = try Network(plan: plan, seed: 1, threads: 1)
        XCTAssertEqual(net.linkedPairs, linked.count)
        // Validation with fewer images than a batch of 100 does not grow the buffers to 100.
        let few = MemoryEstimate.of(plan, use: .training(batch: 16, validationImages: 20, optimizer: .sgd), threads: 1, datasetBytes: 0)
        XCTAssertNotNil(few.parts.first { $0.name == "activations kept for backward (20 images)" })
    }

    func testLargeResolutionIsRefusedWithNumbersAndFix() {
        let plan = LayerPlan(spec: spec(2048))
        let e = MemoryEstimate.of(plan, use: .training(batch: 64, validationImages: 1000, optimizer: .sgd), threads: 2, datasetBytes: 0)
        XCTAssertGreaterThan(e.total!, 32 << 30)
        let limit = MemoryLimit(bytes: 8 << 30, source: "--max-memory")
        XCTAssertThrowsError(try e.check(against: limit, what: "training x at 2048×2048 with batch 64", fix: "use a smaller --batch or --resolution")) { err in
            let s = "\(err)"
            XCTAssertTrue(s.hasPrefix("training x at 2048×2048 with batch 64 needs an estimated "), s)
            XCTAssertTrue(s.contains("more than the 8.0 GB (--max-memory)") && s.contains("use a smaller --batch or --resolution"), s)
        }
        XCTAssertNoThrow(try e.check(against: nil, what: "x", fix: "y"), "no known limit: nothing to check")
        let small = MemoryEstimate.of(LayerPlan(spec: spec(28)), use: .inference(batch: 100), threads: 2, datasetBytes: 0)
        XCTAssertNoThrow(try small.check(against: limit, what: "x", fix: "y"))
    }

    func testTotalsBeyondInt64AreReportedNotWrapped() {
        let plan = LayerPlan(spec: spec(2048))
        let e = MemoryEstimate.of(plan, use: .inference(batch: Int.max / 1000), threads: 2, datasetBytes: 0)
        XCTAssertNil(e.total)
        XCTAssertThrowsError(try e.check(against: MemoryLimit(bytes: 1 << 40, source: "test"), what: "evaluating", fix: "smaller")) { err in
            XCTAssertTrue("\(err)".contains("more memory than a 64-bit count can express"), "\(err)")
        }
    }
}
