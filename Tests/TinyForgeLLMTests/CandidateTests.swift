import XCTest
import TinyForgeSpec
@testable import TinyForgeLLM

final class CandidateTests: XCTestCase {
    let task28 = LLMTask(dataset: "Fashion-MNIST", numClasses: 10, input: InputShape(height: 28, width: 28, channels: 1))

    func testSchemaForMCU28() throws {
        let f = CandidateFormat(space: .mcu28)
        XCTAssertEqual(f.stageFields, ["block", "repeats", "out_channels", "kernel", "stride", "expansion", "se_ratio", "activation", "skip"])
        XCTAssertEqual(f.stemFields, ["out_channels", "stride"])
        let s = f.schema(candidates: 3)
        guard case .object(let root) = s, case .object(let props)? = root["properties"],
              case .object(let cands)? = props["candidates"], case .object(let item)? = cands["items"],
              case .object(let ip)? = item["properties"], case .object(let stages)? = ip["stages"],
              case .object(let stage)? = stages["items"], case .object(let sp)? = stage["properties"],
              case .object(let rat)? = ip["rationale"] else { return XCTFail("schema shape: \(s.prettyText())") }
        XCTAssertEqual(cands["minItems"], 3); XCTAssertEqual(cands["maxItems"], 3)
        XCTAssertEqual(stages["minItems"], 2); XCTAssertEqual(stages["maxItems"], 4)
        XCTAssertEqual(sp["kernel"], ["enum": [3, 5]], "integers as enum: llama.cpp ignores minimum/maximum")
        XCTAssertEqual(sp["out_channels"], ["enum": [8, 16, 24, 32, 48, 64]])
        XCTAssertEqual(sp["se_ratio"], ["enum": [0, 0.25]])
        XCTAssertEqual(sp["block"], ["enum": ["conv", "dsconv", "mbconv"]])
        XCTAssertEqual(ip["stem"], ["type": "object", "properties": ["out_channels": ["enum": [8, 16, 24]], "stride": ["enum": [1, 2]]],
                                    "required": ["out_channels", "stride"], "additionalProperties": false])
        XCTAssertNil(ip["resolution"], "single resolution: fixed by the task")
        XCTAssertNil(ip["input"]); XCTAssertNil(ip["num_classes"])
        guard case .string(let pattern)? = rat["pattern"] else { return XCTFail() }
        XCTAssertFalse(pattern.contains("\\n"))
        let re = try NSRegularExpression(pattern: pattern)
        func matches(_ t: String) -> Bool { re.firstMatch(in: t, range: NSRange(t.startIndex..., in: t)) != nil }
        XCTAssertTrue(matches("Small stem, mbconv at 14x14 keeps SRAM under 50%."))
        XCTAssertFalse(matches("two\nlines of text here"))
        XCTAssertFalse(matches("has a \"quote\" inside it"))
    }

    /// Every sample of every preset: compact form → schema-valid → decodes to the same network.
    func testCompactFormRoundTripsAndFollowsTheSchema() throws {
        var rng = SeededGenerator(seed: 77)
        for space in SearchSpace.presets {
            let f = CandidateFormat(space: space)
            let schema = f.schema(candidates: 1)
            let side = space.resolutions[0]
            let task = LLMTask(dataset: "d", numClasses: 10, input: InputShape(height: side, width: side, channels: space.inputChannels))
            let decoder = CandidateDecoder(format: f, task: task)
            for _ in 0..<50 {
                let spec = try space.sample(numClasses: 10, using: &rng)
                guard case .object(var item) = f.compactJSON(spec) else { return XCTFail() }
                item["rationale"] = "balanced depth and width"
                XCTAssertEqual(SchemaCheck.violations(["candidates": [.object(item)]], schema: schema), [], space.name)
                let d = decoder.decodeOne(.object(item), index: 0)
                XCTAssertNil(d.rejection, "\(space.name): \(d.rejection ?? "")")
                XCTAssertEqual(d.spec?.canonicalHash, spec.canonicalHash, space.name)
                XCTAssertEqual(d.rationale, "balanced depth and width")
            }
        }
    }

    func testRejectionsNameFieldAndAllowedValues() {
        let dec = CandidateDecoder(space: .mcu28, task: task28)
        let good: JSONValue = ["rationale": "ok", "stem": ["out_channels": 16, "stride": 1],
                               "stages": [["block": "dsconv", "repeats": 1, "out_channels": 16, "kernel": 3, "stride": 2,
                                           "expansion": 2, "se_ratio": 0, "activation": "relu", "skip": "none"],
                                          ["block": "conv", "repeats": 2, "out_channels": 32, "kernel": 5, "stride": 2,
                                           "expansion": 3, "se_ratio": 0.25, "activation": "relu6", "skip": "residual"]]]
        let ok = dec.decodeOne(good, index: 0)
        XCTAssertNil(ok.rejection, ok.rejection ?? "")
        XCTAssertEqual(ok.spec?.input, InputShape(height: 28, width: 28, channels: 1))
        XCTAssertEqual(ok.spec?.numClasses, 10)
        XCTAssertEqual(ok.spec?.stem, StemSpec(outChannels: 16, kernel: 3, stride: 1, activation: .relu6))
        XCTAssertEqual(ok.spec?.stages[1].seRatio, 0, "SE on a conv block is normalised away")
        XCTAssertEqual(ok.spec?.stages[0].expansion, 1, "expansion ignored by dsconv")
        XCTAssertEqual(ok.notes.count, 1)
        XCTAssertEqual(try ArchitectureSpec.decode(XCTUnwrap(ok.expanded)).spec, ok.spec, "expanded JSON decodes anywhere")

        func reject(_ edit: (inout [String: JSONValue]) -> Void) -> String {
            guard case .object(var o) = good else { return "" }
            edit(&o)
            return dec.decodeOne(.object(o), index: 0).rejection ?? "accepted"
        }
        func setStage(_ o: inout [String: JSONValue], _ k: String, _ v: JSONValue) {
            guard case .array(var st)? = o["stages"], case .object(var s0) = st[0] else { return }
            s0[k] = v; st[0] = .object(s0); o["stages"] = .array(st)
        }
        XCTAssertEqual(reject { setStage(&$0, "kernel", 7) }, "stages[0].kernel: 7 is not one of 3, 5")
        XCTAssertTrue(reject { setStage(&$0, "out_channels", 40) }.contains("stages[0].out_channels: 40 is not one of 8, 16, 24, 32, 48, 64"))
        XCTAssertTrue(reject { setStage(&$0, "block", "transformer") }.contains("stages[0].block"))
        XCTAssertTrue(reject { setStage(&$0, "kernels", 3) }.contains("kernels"), "unknown key named")
        XCTAssertTrue(reject { $0["stem"] = ["out_channels": 12, "stride": 1] }.contains("stem.out_channels: 12 is not one of 8, 16, 24"))
        XCTAssertTrue(reject { $0["stem"] = nil }.contains("stem"))
        XCTAssertTrue(reject { $0["stages"] = [] }.contains("stages"))
        XCTAssertEqual(dec.decodeOne("a string", index: 0).rejection, "expected an architecture object, found a string")
    }

    func testDuplicatesAreRejected() throws {
        var rng = SeededGenerator(seed: 3)
        let f = CandidateFormat(space: .mcu28)
        let a = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        let b = try SearchSpace.mcu28.sample(numClasses: 10, using: &rng)
        let dec = CandidateDecoder(format: f, task: task28)
        let out = dec.decode([f.compactJSON(a), f.compactJSON(b), f.compactJSON(a)], known: [b.canonicalHash])
        XCTAssertTrue(out[0].accepted)
        XCTAssertTrue(out[1].rejection?.contains("already evaluated") ?? false)
        XCTAssertEqual(out[2].rejection, "duplicate of candidate 0 in the same reply")
    }

    func testSpaceWithSeveralResolutionsAndOverrides() throws {
        var space = SearchSpace.mcu32
        space.resolutions = [32, 48]
        var o = StageChoices.Override(); o.stride = [1]
        space.stageOverrides = [o]
        let f = CandidateFormat(space: space)
        let schema = f.schema(candidates: 1)
        guard case .object(let r) = schema, case .object(let p)? = r["properties"], case .object(let c)? = p["candidates"],
              case .object(let item)? = c["items"], case .object(let ip)? = item["properties"],
              case .object(let st)? = ip["stages"], case .array(let prefix)? = st["prefixItems"] else { return XCTFail() }
        XCTAssertEqual(ip["resolution"], ["enum": [32, 48]])
        XCTAssertEqual(prefix.count, 1)
        let dec = CandidateDecoder(format: f, task: LLMTask(dataset: "c", numClasses: 10, input: InputShape(height: 32, width: 32, channels: 3)))
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<20 {
            let spec = try space.sample(numClasses: 10, using: &rng)
            let d = dec.decodeOne(f.compactJSON(spec), index: 0)
            XCTAssertEqual(d.spec?.canonicalHash, spec.canonicalHash, d.rejection ?? "")
            XCTAssertEqual(SchemaCheck.violations(["candidates": [f.compactJSON(spec)]], schema: schema).filter { !$0.contains("rationale") }, [])
        }
    }

    func testSchemaCheckReportsPaths() {
        let schema = CandidateFormat(space: .mcu28).schema(candidates: 2)
        let v = SchemaCheck.violations(["candidates": [["rationale": "short", "stages": [["kernel": 9]], "extra": 1]]], schema: schema)
        XCTAssertTrue(v.contains("$.candidates: 1 items, at least 2 required"), "\(v)")
        XCTAssertTrue(v.contains { $0.hasPrefix("$.candidates[0].extra: is not allowed") })
        XCTAssertTrue(v.contains { $0.hasPrefix("$.candidates[0].rationale:") })
        XCTAssertTrue(v.contains { $0.hasPrefix("$.candidates[0].stages: 1 items") })
        XCTAssertTrue(v.contains { $0.hasPrefix("$.candidates[0].stages[0].kernel: 9 is not one of 3, 5") })
        XCTAssertTrue(v.contains("$.candidates[0].stages[0].block: is required"))
    }
}
