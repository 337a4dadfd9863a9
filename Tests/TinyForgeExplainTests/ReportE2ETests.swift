import Foundation
import XCTest
@testable import TinyForgeExplain

/// Renders the report in headless Chromium: the screenshot must not be blank and the console
/// must be free of errors. Skips when no Chromium is installed (`apt-get install chromium`).
/// Set TINYFORGE_REPORT_DIR to keep the HTML, JSON and screenshot.
final class ReportE2ETests: XCTestCase {
    func chromium() -> String? {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["CHROMIUM"]].compactMap { $0 } + ["/usr/bin/chromium", "/usr/bin/chromium-browser",
                                                                  "/usr/bin/google-chrome", "/usr/bin/chromium-headless-shell"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func testReportRendersInHeadlessChromium() throws {
        guard let browser = chromium() else { throw XCTSkip("no Chromium found (apt-get install chromium, or set CHROMIUM)") }
        let dir = ProcessInfo.processInfo.environment["TINYFORGE_REPORT_DIR"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-report-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let html = dir.appendingPathComponent("report.html"), shot = dir.appendingPathComponent("report.png")
        try ReportWriter.write(ReportFixture.report(), htmlURL: html)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.json").path))
        try? FileManager.default.removeItem(at: shot)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: browser)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                       "--user-data-dir=\(dir.appendingPathComponent("profile").path)",
                       "--window-size=1240,2400", "--virtual-time-budget=3000", "--enable-logging=stderr", "--v=1",
                       "--screenshot=\(shot.path)", html.absoluteString]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(log.suffix(2000)))

        // Chromium logs every console message as `INFO:CONSOLE:line] "text"` (console.error
        // included, at INFO level) and uncaught exceptions as "Uncaught ...". The report has no
        // scripts, so any console line at all is a failure (e.g. a blocked resource).
        let consoleErrors = log.split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
        XCTAssertEqual(consoleErrors, [], "console errors:\n" + consoleErrors.joined(separator: "\n"))

        let png = try DecodedPNG(Array(Data(contentsOf: shot)))
        XCTAssertEqual(png.width, 1240)
        var colours = Set<UInt32>()
        var nonWhite = 0
        let ch = png.channels
        for i in stride(from: 0, to: png.pixels.count, by: ch) {
            let r = png.pixels[i], g = png.pixels[i + 1], b = png.pixels[i + 2]
            colours.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
            if Int(r) + Int(g) + Int(b) < 720 { nonWhite += 1 }
        }
        let total = png.width * png.height
        XCTAssertGreaterThan(colours.count, 200, "a rendered report has text, charts and colours")
        XCTAssertGreaterThan(Double(nonWhite) / Double(total), 0.05, "screenshot is (almost) blank")
        print("report: \(html.path), screenshot \(png.width)×\(png.height), \(colours.count) colours, \(String(format: "%.1f", 100 * Double(nonWhite) / Double(total)))% non-white")
    }
}
