import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSearch
import TinyForgeSpec
import XCTest

/// The demo's search run as library calls: created from the data's shape and the demo's sizes,
/// found again by a re-run.
final class DemoSearchTests: XCTestCase {
    func testCreatesTheRunFromTheDataAndReopensIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-demosearch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertNil(try DemoSearch.openRun(directory: dir), "no run yet")
        let d = try SyntheticData.generate(SyntheticConfig(classes: 4, size: 12, channels: 1, trainCount: 80, testCount: 8, noise: 0.1, seed: 1))
        let splits = try Splitter.split(train: d.train, test: d.test, valFraction: 0.25, seed: 42)
        let t = Target.stm32f746
        let request = DemoSearchRequest(dataset: "synthetic:test", splits: splits, target: t, budget: Budget(target: t), proposer: "evolution",
                                        llm: nil, trials: 3, proxyEpochs: 1, proxySubset: 0.5, seed: 7,
                                        workerCommand: ["/bin/false"], runDirectory: dir)
        do {
            let (store, config) = try DemoSearch.createRun(request)
            XCTAssertEqual(config.trials, 3)
            XCTAssertEqual(config.task.numClasses, 4)
            XCTAssertEqual(config.settings.epochs, 1)
            XCTAssertEqual(config.settings.subset, 0.5)
            XCTAssertEqual(config.workerCommand, ["/bin/false"])
            let space = try config.space()
            XCTAssertEqual(space.inputChannels, 1)
            XCTAssertEqual(space.resolutions, [12])
            store.lock?.release()
        }
        let reopened = try XCTUnwrap(try DemoSearch.openRun(directory: dir))
        XCTAssertEqual(reopened.1.seed, 7)
    }
}
