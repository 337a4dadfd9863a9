import Foundation
@testable import TinyForgeDeploy
import XCTest

/// Class names in the C library, and `.tflite` files read back into the model they came from.
final class LabelsAndReaderTests: XCTestCase {
    func testTFLiteReaderRoundTripsEveryExportedOp() throws {
        for model in [try DeployModelZoo.classifier(seed: 3), try DeployModelZoo.elementwise(seed: 4),
                      try DeployModelZoo.mbconv(act: .hswish, seed: 6), try DeployModelZoo.depthwise(k: 3, stride: 2, act: .leaky, seed: 7)] {
            let back = try TFLiteReader.read(try TFLiteWriter.serialize(model), name: model.name)
            XCTAssertEqual(back, model)
            let x = DeployModelZoo.inputs(model, count: 1, seed: 9)
            XCTAssertEqual(try Int8Interpreter(model: back).run(inputs: x), try Int8Interpreter(model: model).run(inputs: x))
        }
    }

    func testTFLiteReaderRejectsOtherFiles() {
        XCTAssertThrowsError(try TFLiteReader.read(Array("not a flatbuffer at all".utf8))) { e in
            XCTAssertTrue("\(e)".contains("TFL3"), "\(e)")
        }
        XCTAssertThrowsError(try TFLiteReader.read(path: "/nonexistent/model.tflite")) { e in
            XCTAssertTrue("\(e)".contains("cannot be read"), "\(e)")
        }
    }

    func testUTF8LiteralEscapesEverythingUnsafe() {
        XCTAssertEqual(CSource.utf8Literal("T-shirt/top"), "T-shirt/top")
        XCTAssertEqual(CSource.utf8Literal("a\"b\\c?"), "a\\\"b\\\\c\\?")
        XCTAssertEqual(CSource.utf8Literal("é1"), "\\303\\2511")
    }

    func testCLibraryCarriesLabelsThatCompileAndPrint() throws {
        let model = try DeployModelZoo.classifier(seed: 5)
        let outputs = model.tensors[model.outputs[0]].elementCount
        let labels = (0..<outputs).map { ["T-shirt/top", "Ankle \"boot\"", "café", "a\\b??="][$0 % 4] + "\($0)" }
        let lib = try CCodeGenerator(model: model).generate(labels: labels)
        XCTAssertTrue(lib.files["model.h"]!.contains("#define TF_MODEL_LABEL_COUNT \(outputs)"))
        XCTAssertTrue(lib.files["model.h"]!.contains("extern const char *const tf_model_labels[TF_MODEL_LABEL_COUNT];"))
        XCTAssertFalse(try CCodeGenerator(model: model).generate().files["model.h"]!.contains("tf_model_labels"))
        guard let cc = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map({ "\($0)/cc" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no host C compiler 'cc' on PATH (apt-get install -y gcc)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-labels-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try lib.write(to: dir)
        try Data("""
            #include <stdio.h>
            #include "model.h"
            int main(void) { for (int i = 0; i < TF_MODEL_LABEL_COUNT; i++) printf("%s\\n", tf_model_labels[i]); return 0; }
            """.utf8).write(to: dir.appendingPathComponent("main.c"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cc)
        p.currentDirectoryURL = dir
        p.arguments = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wno-trigraphs", "-O1", "-o", "labels", "main.c"] + GeneratedCLibrary.sources
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "cc failed")
        let run = Process(), pipe = Pipe()
        run.executableURL = dir.appendingPathComponent("labels")
        run.standardOutput = pipe
        try run.run(); run.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(text, labels.map { $0 + "\n" }.joined())
    }
}
