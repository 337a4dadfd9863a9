import Foundation
import TinyForgeTraining
import XCTest

/// Class names stored in a checkpoint's `labels` metadata entry.
final class CheckpointLabelsTests: XCTestCase {
    func testLabelsRoundTripThroughACheckpoint() throws {
        let spec = tinySpec(#"[{"block": "conv", "out_channels": 8, "stride": 2, "activation": "relu"}]"#,
                            input: #"{"height": 8, "width": 8, "channels": 1}"#, classes: 3)
        let net = try Network(spec: spec, seed: 1, threads: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tf-labels-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        let names = ["T-shirt/top", "Ankle \"boot\"", "café, naïve"]
        try Checkpoint.save(net, to: path, metadata: [Checkpoint.labelsKey: Checkpoint.labelsMetadata(names)])
        XCTAssertEqual(try Checkpoint.labels(try Checkpoint.read(path).metadata, file: path), names)
        XCTAssertNil(try Checkpoint.labels([:], file: path), "older checkpoints have no labels")
        XCTAssertThrowsError(try Checkpoint.labels([Checkpoint.labelsKey: "{\"a\": 1}"], file: path)) { e in
            XCTAssertTrue("\(e)".contains("metadata.labels"), "\(e)")
        }
        XCTAssertThrowsError(try Checkpoint.labels([Checkpoint.labelsKey: "[1, 2]"], file: path)) { e in
            XCTAssertTrue("\(e)".contains("non-string"), "\(e)")
        }
    }
}
