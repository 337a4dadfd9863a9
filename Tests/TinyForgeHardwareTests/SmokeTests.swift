import XCTest
@testable import TinyForgeHardware
final class HardwareSmokeTests: XCTestCase { func testVersion() { XCTAssertEqual(TinyForgeHardwareInfo.specFormat, 1) } }
