import XCTest
@testable import TinyForgeSpec

final class SearchSpaceTests: XCTestCase {
    func testPaperSpaceSizeAsPublished() {
        let size = SearchSpace.paper.size()
        // 8 channels × 3 kernels × 2 strides × 3 expansions × SE on/off × 2 blocks × 2 skips
        // × 3 activations × 5 depths = 17,280 per stage; five stages ≈ 1.5·10²¹.
        XCTAssertEqual(size.asPublished, pow(17_280.0, 5), accuracy: 1e6)
        XCTAssertEqual(size.asPublished / 1e21, 1.545, accuracy: 0.01)
        XCTAssertGreaterThan(size.combinations, size.asPublished)
        XCTAssertLessThan(size.distinct, size.combinations)
    }

    func testSamplesAreInsideAndValidAndSeeded() throws {
        for space in SearchSpace.presets {
            var rng = SeededGenerator(seed: 5)
            var hashes = Set<String>()
            for _ in 0..<500 {
                let s = try space.sample(numClasses: 10, using: &rng)
                XCTAssertEqual(space.violations(of: s), [], space.name)
                XCTAssertNoThrow(try s.validate())
                hashes.insert(s.canonicalHash)
            }
            XCTAssertGreaterThan(hashes.count, 490, "samples should rarely repeat in \(space.name)")
            var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
            XCTAssertEqual(try space.sample(numClasses: 10, using: &a), try space.sample(numClasses: 10, using: &b))
        }
    }

    func testViolationsNameThePathAndAllowedValues() throws {
        var s = try SearchSpace.paper.sample(numClasses: 100, using: &rngForTest)
        s.stages[2].kernel = 9
        s.stages[0].outChannels = 20
        let v = SearchSpace.paper.violations(of: s)
        XCTAssertTrue(v.contains("stages[2].kernel: 9 is not one of 3, 5, 7"), "\(v)")
        XCTAssertTrue(v.contains("stages[0].out_channels: 20 is not one of 16, 24, 32, 48, 64, 96, 128, 160"), "\(v)")
        s.input.height = 32; s.input.width = 32
        XCTAssertTrue(SearchSpace.paper.violations(of: s).contains("input.height: 32 is not one of 160"))
        XCTAssertFalse(SearchSpace.paper.contains(s))
    }

    func testMutateChangesExactlyOneThing() throws {
        var rng = SeededGenerator(seed: 3)
        for space in SearchSpace.presets {
            for _ in 0..<200 {
                let parent = try space.sample(numClasses: 10, using: &rng)
                guard let (child, change) = space.mutate(parent, using: &rng) else { return XCTFail("no mutation") }
                XCTAssertTrue(space.contains(child))
                XCTAssertNotEqual(child.canonicalHash, parent.canonicalHash, change)
                if change.hasPrefix("stages["), parent.stages.count == child.stages.count {
                    let differing = zip(parent.stages, child.stages).filter { $0 != $1 }.count
                    XCTAssertEqual(differing, 1, change)
                }
            }
        }
    }

    func testCrossoverTakesEachStageFromAParent() throws {
        var rng = SeededGenerator(seed: 4)
        let space = SearchSpace.paper
        for _ in 0..<100 {
            let a = try space.sample(numClasses: 100, using: &rng), b = try space.sample(numClasses: 100, using: &rng)
            guard let c = space.crossover(a, b, using: &rng) else { continue }
            XCTAssertTrue(space.contains(c))
            for (i, st) in c.stages.enumerated() { XCTAssertTrue(st == a.stages[i] || st == b.stages[i]) }
        }
    }

    func testJSONRoundTripOfPresets() throws {
        for space in SearchSpace.presets {
            let text = space.jsonValue().prettyText()
            XCTAssertEqual(try SearchSpace.decode(jsonText: text), space, space.name)
        }
    }

    func testCustomSpaceWithOverridesAndErrors() throws {
        let sp = try SearchSpace.decode(jsonText: #"""
        {"name": "tiny", "resolutions": [28], "input_channels": 1, "num_stages": [2],
         "stage": {"block": ["dsconv"], "repeats": [1, 2], "out_channels": [8, 16], "kernel": [3], "stride": [1, 2],
                   "activation": ["relu"]},
         "stages": [{"stride": [2]}], "width_multipliers": [1.0, 2.0]}
        """#)
        XCTAssertEqual(sp.choices(forStage: 0).stride, [2])
        XCTAssertEqual(sp.choices(forStage: 1).stride, [1, 2])
        XCTAssertEqual(sp.choices(forStage: 1).outChannels, [8, 16, 32])
        XCTAssertThrowsError(try SearchSpace.decode(jsonText: #"{"resolutions": [28], "num_stages": [2], "stage": {"block": ["dsconv", "lstm"], "repeats": [], "out_channels": [8], "kernel": [3], "stride": [1], "activation": ["relu"]}}"#)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("stage.block[1]: \"lstm\" is not one of"), m)
            XCTAssertTrue(m.contains("stage.repeats: is empty"), m)
        }
    }
}

private var rngForTest = SeededGenerator(seed: 77)

final class SpecFuzzTests: XCTestCase {
    /// Thousands of mutated JSON texts: every one either decodes to a valid network (which
    /// then lowers) or throws a SpecError(s) — never a crash.
    func testMutatedJSONNeverCrashes() {
        var rng = SeededGenerator(seed: 2024)
        let seeds = ReferenceNetworks.all.map(\.json)
        let junk = ["-1", "0", "1e309", "3.5", "\"x\"", "null", "[]", "{}", "true", "99999999999", ",", "}", "]", "\"mbconv\"", "-0.0"]
        var decoded = 0, rejected = 0
        for i in 0..<4000 {
            var chars = Array(seeds[i % seeds.count])
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let pos = Int.random(in: 0..<chars.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: chars.remove(at: pos)
                case 1: chars.insert(contentsOf: Array(junk.randomElement(using: &rng)!), at: pos)
                case 2:
                    // Replace a number with junk.
                    if let start = chars[pos...].firstIndex(where: { $0.isNumber }) {
                        var end = start
                        while end < chars.count && (chars[end].isNumber || chars[end] == ".") { end += 1 }
                        chars.replaceSubrange(start..<end, with: Array(junk.randomElement(using: &rng)!))
                    }
                default: chars = Array(chars.prefix(pos))
                }
                if chars.isEmpty { chars = ["{"] }
            }
            do {
                let spec = try ArchitectureSpec.decode(jsonText: String(chars)).spec
                _ = spec.expandedLayers()
                _ = spec.canonicalHash
                decoded += 1
            } catch is SpecErrors {
                rejected += 1
            } catch is SpecError {
                rejected += 1
            } catch {
                XCTFail("unexpected error type \(type(of: error)): \(error)")
            }
        }
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(decoded, 10)
    }
}
