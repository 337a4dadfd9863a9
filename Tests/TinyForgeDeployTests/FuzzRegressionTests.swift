import Foundation
import TinyForgeDeploy
import XCTest

/// Inputs the `tflite` fuzz target (fuzz/tflite) crashed the reader with, kept as fixtures.
final class FuzzRegressionTests: XCTestCase {
    func fixture(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/fuzz/\(name)", withExtension: nil))
        return [UInt8](try Data(contentsOf: url))
    }

    /// A mutated export whose operator_codes vector claims 1,785,688,688 entries: `tables`
    /// reserved an array for all of them (14 GB under ASan) before the first bounds check, so
    /// the process died instead of throwing. Now the whole vector is checked first.
    func testVectorCountBeyondTheBufferIsRefusedBeforeAllocating() throws {
        let r = try FlatBufferReader(try fixture("tflite-vector-count-oom.tflite"))
        let root = try r.root()
        let claimed = 1_785_688_688
        XCTAssertEqual(try r.vector(root, 1)?.count, claimed)
        XCTAssertThrowsError(try r.tables(root, 1)) { e in
            guard case DeployError.invalidFlatBuffer(let reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("read of \(4 * claimed) bytes"), "checked as one range: \(reason)")
        }
    }
}
