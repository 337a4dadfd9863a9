import XCTest
import TinyForgeSpec
@testable import TinyForgeHardware

final class LatencyModelTests: XCTestCase {
    func testCalibrationFitsPublishedPoints() {
        let cal = LatencyModel.calibration
        for p in cal.points { print(String(format: "calibration: %@  measured %.1f ms  predicted %.1f ms", p.name, p.measuredMs, p.predictedMs)) }
        print("calibration: depthwise cost \(cal.depthwiseCost), scale \(cal.scale), error \(cal.meanAbsRelativeError)")
        // ResNet-8 and VWW under X-CUBE-AI 7.3 and 8.0 on an M4 and an M7 board.
        XCTAssertEqual(cal.points.count, 8)
        XCTAssertNotNil(cal.scale[.cortexM4])
        XCTAssertNotNil(cal.scale[.cortexM7])
        // The M7's dual-issue pipeline needs fewer cycles per MAC than the M4.
        XCTAssertLessThan(cal.scale[.cortexM7]!, cal.scale[.cortexM4]!)
        for (_, e) in cal.meanAbsRelativeError { XCTAssertLessThan(e, 0.1) }
        // Depthwise MACs cost more than dense ones on these kernels.
        XCTAssertGreaterThan(cal.depthwiseCost, 1.0)
    }

    func testLatencyScalesWithClockAndWork() {
        let r8 = ReferenceNetworks.spec("resnet8")!
        let h7 = CostModel.evaluate(r8, target: .stm32h743).latency.milliseconds
        let f7 = CostModel.evaluate(r8, target: .stm32f746).latency.milliseconds
        XCTAssertEqual(f7 / h7, 480.0 / 216.0, accuracy: 1e-9)
        let big = CostModel.evaluate(ReferenceNetworks.spec("mobilenetv2")!, target: .stm32h743).latency.milliseconds
        XCTAssertGreaterThan(big, 10 * h7)
        let plan = LayerPlan(spec: r8)
        let lat = LatencyModel.estimate(plan, target: .stm32h743)
        XCTAssertEqual(lat.perOp.reduce(0, +), lat.milliseconds, accuracy: 1e-9)
    }
}
