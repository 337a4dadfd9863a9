import Foundation
import XCTest
@testable import TinyForgeSpec

final class ArchitectureSpecTests: XCTestCase {
    func decode(_ text: String) throws -> ArchitectureSpec { try ArchitectureSpec.decode(jsonText: text).spec }

    /// The message of the error `text` raises (fails the test if it decodes).
    func errorText(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try decode(text)
            XCTFail("expected an error for \(text)", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    let minimal = #"{"input": {"height": 32, "width": 32, "channels": 3}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 4}]}"#

    func testMinimalFillsDefaults() throws {
        let s = try decode(minimal)
        XCTAssertEqual(s.stages[0].kernel, 3)
        XCTAssertEqual(s.stages[0].stride, 1)
        XCTAssertEqual(s.stages[0].skip, SkipType.none)
        XCTAssertEqual(s.stages[0].activation, .relu6)
        XCTAssertNil(s.stem)
        XCTAssertEqual(s.head.convChannels, 0)
    }

    func testOurFormatRoundTrip() throws {
        for entry in ReferenceNetworks.all {
            let s = try ArchitectureSpec.decode(jsonText: entry.json).spec
            let again = try decode(s.jsonText())
            XCTAssertEqual(again, s, entry.name)
            XCTAssertEqual(again.canonicalHash, s.canonicalHash, entry.name)
        }
    }

    func testPaperFormatImportAndExport() throws {
        let entry = ReferenceNetworks.named("lmanet-elite")!
        let (spec, warnings) = try ArchitectureSpec.decode(jsonText: entry.json)
        XCTAssertEqual(spec.stages.count, 5)
        XCTAssertEqual(spec.input, InputShape(height: 160, width: 160, channels: 3))
        XCTAssertEqual(spec.numClasses, 100)
        XCTAssertEqual(spec.stages[0].block, .dsconv)
        XCTAssertEqual(spec.stages[2].activation, .leakyRelu)
        XCTAssertEqual(spec.stages[3].seRatio, 0.5)
        XCTAssertEqual(spec.stages[1].seRatio, 0, "use_se false wins over se_ratio 0.25")
        XCTAssertTrue(warnings.isEmpty, "\(warnings)")
        // Export to the paper's format and back builds the same network.
        let paper = try PaperFormat.encode(spec)
        let back = try ArchitectureSpec.decode(paper).spec
        XCTAssertEqual(back.canonicalHash, spec.canonicalHash)
    }

    func testReleasedModelsOutsideTableIWarn() throws {
        let core = try ArchitectureSpec.decode(jsonText: ReferenceNetworks.named("lmanet-core")!.json)
        XCTAssertTrue(core.warnings.contains { $0.contains("stages[0].expansion: 2 is not one of 3, 4, 6") }, "\(core.warnings)")
    }

    func testPaperExportRefusesWhatTheirCodeCannotBuild() {
        let mbv2 = ReferenceNetworks.spec("mobilenetv2")!
        XCTAssertThrowsError(try PaperFormat.encode(mbv2)) { e in
            XCTAssertTrue("\(e)".contains("stem: the paper's networks have no stem"))
        }
    }

    func testCanonicalHashEquivalences() throws {
        let base = try decode(minimal)
        // Explicit defaults, other key order, whitespace.
        let explicit = try decode(#"""
        {"num_classes": 10, "stages": [ {"expansion": 4, "out_channels": 16, "block": "mbconv", "kernel": 3,
          "stride": 1, "se_ratio": 0, "activation": "relu6", "skip": "none", "repeats": 1}],
         "input": {"channels": 3, "width": 32, "height": 32}, "head": {"conv_channels": 0, "dropout": 0.2}}
        """#)
        XCTAssertEqual(explicit.canonicalHash, base.canonicalHash)
        // A name does not change the network.
        var named = base; named.name = "other"
        XCTAssertEqual(named.canonicalHash, base.canonicalHash)
        // dsconv ignores expansion.
        let ds1 = try decode(#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "dsconv", "out_channels": 16, "expansion": 6}]}"#)
        let ds2 = try decode(#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "dsconv", "out_channels": 16}]}"#)
        XCTAssertEqual(ds1.canonicalHash, ds2.canonicalHash)
        // A stage split in two identical stride-1 halves is the same network.
        let whole = try decode(#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 4, "repeats": 3, "stride": 2, "skip": "residual"}]}"#)
        let split = try decode(#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 4, "repeats": 1, "stride": 2, "skip": "residual"}, {"block": "mbconv", "out_channels": 16, "expansion": 4, "repeats": 2, "skip": "residual"}]}"#)
        XCTAssertEqual(whole.canonicalHash, split.canonicalHash)
        // A residual on a single stride-2 layer is no shortcut (the paper's rule).
        let r = try decode(#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 4, "stride": 2, "skip": "residual"}]}"#)
        let n = try decode(#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 4, "stride": 2}]}"#)
        XCTAssertEqual(r.canonicalHash, n.canonicalHash)
        // Different networks differ.
        var k5 = base; k5.stages[0].kernel = 5
        XCTAssertNotEqual(k5.canonicalHash, base.canonicalHash)
        var c10 = base; c10.numClasses = 11
        XCTAssertNotEqual(c10.canonicalHash, base.canonicalHash)
        XCTAssertEqual(base.canonicalHash.count, 64)
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(String(repeating: "a", count: 1000)),
                       "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    /// One clear error per kind of bad input: the path, what was found, what is allowed.
    func testBadInputErrorsNamePathAndFix() {
        let cases: [(String, [String])] = [
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": [ {"block": "mbconv",]}"#, ["is not valid JSON"]),
            ("", ["is empty"]),
            ("[1, 2]", ["expected an object, found an array"]),
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 4, "kernal": 3}]}"#,
             ["stages[0].kernal: unknown key; did you mean \"kernel\"?"]),
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16, "expansion": 4, "kernel": 4}]}"#,
             ["stages[0].kernel: 4 is not one of 1, 3, 5, 7, 9, 11"]),
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 16.5, "expansion": 4}]}"#,
             ["stages[0].out_channels: 16.5 is not an integer"]),
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 0, "expansion": 4}]}"#,
             ["stages[0].out_channels: 0 is out of range; allowed 1...8192"]),
            (#"{"input": {"height": -5}, "num_classes": 10, "stages": [{"block": "dsconv", "out_channels": 8}]}"#,
             ["input.height: -5 is out of range; allowed 1...2048"]),
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": []}"#, ["stages: is empty; a network needs at least one stage"]),
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "transformer", "out_channels": 8}]}"#,
             ["stages[0].block: \"transformer\" is not one of conv, dsconv, mbconv, fused_mbconv, basic"]),
            (#"{"input": {"height": 32}, "num_classes": "ten", "stages": [{"block": "dsconv", "out_channels": 8}]}"#,
             ["num_classes: expected an integer, found a string"]),
            (#"{"input": {"height": 2}, "num_classes": 10, "stages": [{"block": "dsconv", "out_channels": 8, "stride": 2}, {"block": "dsconv", "out_channels": 8, "stride": 2}]}"#,
             ["stages[1].stride: 2 would downsample a 1×1 feature map"]),
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "mbconv", "out_channels": 8}]}"#,
             ["stages[0].expansion: is required"]),
            (#"{"input": {"height": 32}, "num_classes": 10, "stages": [{"block": "conv", "out_channels": 8, "se_ratio": 0.25}]}"#,
             ["stages[0].se_ratio: squeeze-excitation is not defined for block \"conv\""]),
            (#"{"candidate_config": {"input_channels": 3, "blocks": [{"output_channels": 16, "num_layers": 0, "kernel_size": 3, "stride": 2, "expansion_factor": 3, "use_se": false, "se_ratio": 0, "conv_type": "depthwise", "skip_op": "identity", "activation": "relu6"}]}}"#,
             ["candidate_config.blocks[0].num_layers: 0 is out of range"]),
            (#"{"candidate_config": {"input_channels": 3, "blocks": [{"output_channels": 16, "num_layers": 1, "kernel_size": 3, "stride": 2, "expansion_factor": 3, "use_se": false, "se_ratio": 0, "conv_type": "depthwise", "skip_op": "identity", "activation": "gelu"}], "pool_type": "max"}}"#,
             ["candidate_config.blocks[0].activation: \"gelu\" is not one of relu, relu6, leakyrelu, swish",
              "candidate_config.pool_type: \"max\" is not supported"]),
        ]
        for (text, expected) in cases {
            let msg = errorText(text)
            for e in expected { XCTAssertTrue(msg.contains(e), "\(text)\n→ \(msg)\nexpected: \(e)") }
        }
    }

    func testAllErrorsReportedAtOnce() {
        let msg = errorText(#"{"input": {"height": 0}, "num_classes": 1, "stages": [{"block": "dsconv", "out_channels": -1, "stride": 3}]}"#)
        XCTAssertTrue(msg.contains("input.height"))
        XCTAssertTrue(msg.contains("num_classes"))
        XCTAssertTrue(msg.contains("stages[0].out_channels"))
        XCTAssertTrue(msg.contains("stages[0].stride: 3 is not one of 1, 2"))
    }
}

final class CanonicalFormTests: XCTestCase {
    func testMergingNeverChangesTheNetwork() throws {
        // Canonicalisation must keep the expanded layers identical for random specs.
        var rng = SeededGenerator(seed: 11)
        for space in SearchSpace.presets {
            for _ in 0..<300 {
                let s = try space.sample(numClasses: 10, using: &rng)
                let layers = s.expandedLayers().map(\.shapeKey)
                XCTAssertEqual(s.canonical().expandedLayers().map(\.shapeKey), layers)
            }
        }
    }

    func testNoShortcutStageDoesNotAbsorbResidualStage() throws {
        let a = ArchitectureSpec(input: InputShape(height: 32, width: 32, channels: 3), numClasses: 10, stages: [
            StageSpec(block: .dsconv, repeats: 2, outChannels: 16, skip: .none),
            StageSpec(block: .dsconv, repeats: 2, outChannels: 16, skip: .residual)])
        XCTAssertEqual(a.canonical().stages.count, 2)
    }
}

extension LayerConfig {
    /// Everything that defines the layer's computation (stage bookkeeping excluded).
    var shapeKey: String {
        "\(block) \(inChannels)>\(midChannels)>\(outChannels) k\(kernel) s\(stride) se\(seChannels) \(activation) \(shortcut) \(shortcutBatchNorm) \(postActivation)"
    }
}
