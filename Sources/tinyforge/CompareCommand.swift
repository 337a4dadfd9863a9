import ArgumentParser
import Foundation
import TinyForgeSearch
import TinyForgeSpec

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run several proposers over several seeds with the same number of evaluations; report hypervolume mean ± sd.")

    @OptionGroup var options: SearchRunOptions

    @Option(help: "Comma-separated proposers: random, evolution, nsga2, llm, llm+random, evolution+llm, nsga2+llm (llm ones need TINYFORGE_LLM_URL).")
    var proposers: String = "random,evolution,nsga2"

    @Option(help: "Number of seeds (at least 3 for a spread).")
    var seeds: Int = 3

    @Option(help: "First seed; seeds are FIRST, FIRST+1, ...")
    var firstSeed: UInt64 = 1

    @Option(help: "Directory for the runs (one per proposer and seed) and compare.json. Re-running resumes.")
    var out: String

    @Flag(help: "Print compare.json instead of the table.")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var llm: LLMTimeoutOption

    func run() throws {
        do {
            let names = proposers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !names.isEmpty else { throw SearchError("--proposers", "is empty; e.g. random,evolution,nsga2") }
            guard seeds >= 1 else { throw SearchError("--seeds", "\(seeds) must be at least 1") }
            let usesLLM = names.contains { $0.contains("llm") }
            let llmTimeout = try llm.seconds()
            for n in names { _ = try makeProposer(try options.makeConfig(proposer: n, seed: firstSeed, usesLLM: usesLLM), llmTimeout: llmTimeout) }
            let base = try options.makeConfig(proposer: names[0], seed: firstSeed, usesLLM: usesLLM)
            let seedList = (0..<UInt64(seeds)).map { firstSeed + $0 }
            let dir = URL(fileURLWithPath: out)
            var postgres: PostgresStoreURL?
            if storeOptions.store != nil, case .postgres(let url) = try storeOptions.location(directory: out, option: "--out") { postgres = url }
            let quiet = json
            let result = try runBlocking {
                try await Comparison.run(base: base, proposers: names, seeds: seedList, directory: dir, postgres: postgres,
                                         makeProposer: { try makeProposer($0, llmTimeout: llmTimeout) }, log: quiet ? nil : { print($0); fflush(stdout) })
            }
            let text = result.jsonValue().prettyText()
            try AtomicFile.write(text + "\n", to: dir.appendingPathComponent("compare.json"))
            if json { print(text) } else {
                print(result.table())
                print("wrote \(dir.appendingPathComponent("compare.json").path)")
            }
        } catch {
            throw fail(error)
        }
    }
}
