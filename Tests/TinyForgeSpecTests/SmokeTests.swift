import XCTest
@testable import TinyForgeSpec
final class SmokeTests: XCTestCase { func testVersion() { XCTAssertEqual(TinyForgeSpecInfo.formatVersion, 1) } }
