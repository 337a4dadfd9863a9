import XCTest
import TinyForgeSpec
@testable import TinyForgeExplain

final class ReportWriterTests: XCTestCase {
    func testDumpReport() throws {
        let r = ReportFixture.report()
        let url = URL(fileURLWithPath: "/tmp/explain-report.html")
        try ReportWriter.write(r, htmlURL: url)
        print("candidates", r.points.count, "surrogates", r.surrogates.map { "\($0.target) R2=\($0.cvR2 ?? -9)" }, r.surrogateSkipped)
    }
}
