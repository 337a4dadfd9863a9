import ArgumentParser
import Foundation
import TinyForgeSpec

struct SpaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "space",
        abstract: "Show a search space (preset or JSON file): its size, its JSON, random samples.")

    @Argument(help: "A preset (\(SearchSpace.presets.map(\.name).joined(separator: ", "))) or a search-space JSON file.")
    var space: String = "paper"

    @Option(help: "Print this many random architectures from the space.")
    var sample: Int = 0

    @Option(help: "Seed for --sample.")
    var seed: UInt64 = 1

    @Option(help: "Classes of the sampled networks.")
    var classes: Int = 10

    @Flag(help: "Print the space as JSON.")
    var json = false

    func run() throws {
        do {
            let sp = try Self.loadSpace(space)
            if json { print(sp.jsonValue().prettyText()); return }
            let size = sp.size()
            print("space \(sp.name): \(sp.numStages.map(String.init).joined(separator: "/")) stages, input \(sp.resolutions.map { "\($0)x\($0)" }.joined(separator: "/"))x\(sp.inputChannels)")
            print(String(format: "size: %.3g as the paper counts (SE on/off), %.3g field combinations, %.3g distinct networks (upper bound)",
                         size.asPublished, size.combinations, size.distinct))
            var rng = SeededGenerator(seed: seed)
            for _ in 0..<max(0, sample) {
                print(try sp.sample(numClasses: classes, using: &rng).jsonText(pretty: false))
            }
        } catch {
            throw fail(error)
        }
    }

    static func loadSpace(_ s: String) throws -> SearchSpace {
        if let p = SearchSpace.preset(named: s), !FileManager.default.fileExists(atPath: s) { return p }
        guard let data = FileManager.default.contents(atPath: s), let text = String(data: data, encoding: .utf8) else {
            throw SpecError(path: s, message: "is neither a preset (\(SearchSpace.presets.map(\.name).joined(separator: ", "))) nor a readable JSON file")
        }
        return try SearchSpace.decode(jsonText: text, source: s)
    }
}
