import ArgumentParser
import Foundation
import TinyForgeSearch
import TinyForgeSpec

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Architecture search under an MCU budget; every step is stored in RUN/run.sqlite and resumable.",
        discussion: """
            New run:  tinyforge search --space mcu28 --dataset fashion-mnist:DIR --target stm32f746 --sram 320KB \\
                        --flash 1MB --macs 20M --proposer evolution --trials 100 --batch 4 --workers 2 --run runs/a
            Resume:   tinyforge search --resume runs/a      (after a crash or kill -9: nothing completed is redone)
            Inspect:  tinyforge runs show runs/a
            Finish:   add --finish-top 3 --finish-epochs 30 [--finish-arg=--lr=0.1 ...] to train the front's best fully
            """)

    @OptionGroup var options: SearchRunOptions

    @Option(help: "Proposer: random, evolution (regularized evolution), nsga2, llm, llm+random, evolution+llm or nsga2+llm (the LLM writes the children of evolution / NSGA-II, classic mutation as fallback). The llm ones need TINYFORGE_LLM_URL.")
    var proposer: String = "evolution"

    @Option(help: "Seed of proposals and worker training.")
    var seed: UInt64 = 0

    @Option(name: .customLong("run"), help: "Run directory to create (holds run.sqlite, config.json, candidates/, pareto.json, candidates.csv).")
    var runDirectory: String?

    @Option(help: "Continue the run in this directory (or this postgres://…?run=NAME URL) with its stored configuration.")
    var resume: String?

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print the final summary as JSON (pareto.json) instead of text.")
    var json = false

    @Flag(help: "Break the run's lock when its holder is on another host and its heartbeat is older than 60 s (see `tinyforge runs unlock`).")
    var breakLock = false

    @OptionGroup var queue: SearchExecutorOptions

    @OptionGroup var finish: SearchFinishOptions

    @OptionGroup var llm: LLMTimeoutOption

    func run() throws {
        do {
            let finishStep = try finish.command(runDirectory: resume ?? runDirectory ?? "")
            let llmTimeout = try llm.seconds()
            let store: RunStore
            let config: SearchConfig
            if var target = resume {
                // --resume URL may name the run's local output directory with --run (where its
                // Slurm jobs.json is, so the resume cancels the earlier array); a run directory may not.
                if runDirectory != nil, !target.hasPrefix("postgres") { throw SearchError("--resume", "takes the run directory alone; drop --run") }
                try queue.refuseOnResume()
                if target.hasPrefix("postgres") {   // --resume URL: the same as --store URL --resume
                    if storeOptions.store != nil { throw SearchError("--resume", "takes the PostgreSQL URL alone; drop --store") }
                } else if let url = storeOptions.store {
                    throw SearchError("--resume", "with --store \(url): pass the URL to --resume instead (tinyforge search --resume '\(url)')")
                }
                var options = storeOptions
                if target.hasPrefix("postgres") { options.store = target; target = "" }
                let location = try options.location(directory: target.isEmpty ? runDirectory : target, option: "--resume")
                store = try RunStore.open(at: location, lock: .init(command: "search --resume", breakStale: breakLock))
                config = try store.config()
            } else {
                let location = try storeOptions.location(directory: runDirectory, option: "--run")
                config = try queue.apply(to: try options.makeConfig(proposer: proposer, seed: seed))
                _ = try makeProposer(config, llmTimeout: llmTimeout)
                store = try RunStore.create(at: location, config: config, lock: .init(command: "search", breakStale: breakLock))
            }
            let controller = SearchController(store: store, config: config, proposer: try makeProposer(config, llmTimeout: llmTimeout),
                                              evaluator: config.makeEvaluator(runDirectory: store.directory))
            try queue.prepare(controller, quiet: json, passwordFile: storeOptions.storePasswordFile)
            let report = try RunReport(store: store)
            var printer = SearchProgressPrinter(scoreLabel: config.evaluator == "synthetic" ? "synthetic score" : "val acc")
            printer.halving = config.halving != nil
            if !json {
                controller.onProgress = { printer.print($0) }
                controller.onEvent = { m in
                    if printer.isTTY { print("") }
                    print(m)
                }
                print("run \(store.location): \(config.proposer), \(config.trials) trials, evaluator \(config.evaluator), "
                      + "\(report.state.evaluationCount) already evaluated")
                if let h = config.halving {
                    print("successive halving: epochs \(h.epochs.map(String.init).joined(separator: ",")) per rung, η=\(h.eta), "
                          + "about \(h.plannedEvaluations(trials: config.trials).reduce(0, +)) evaluations and \(h.plannedEpochs(trials: config.trials)) epochs planned")
                }
            }
            let summary = try runBlocking { try await controller.run() }
            let final = try RunReport(store: store)
            try final.writeFiles(store: store)
            if json {
                print(final.paretoJSON().prettyText())
            } else {
                if printer.isTTY && printer.halving { print("") }
                print(final.text())
                print("trained \(summary.trained) candidates in \(summary.evaluations) evaluations (per rung: "
                      + summary.evaluationsPerRung.map(String.init).joined(separator: "/") + "), \(summary.epochsSpent) training epochs")
                print("controller overhead " + String(format: "%.2f ms", summary.controllerSecondsPerTrial * 1000)
                      + " per trial (propose " + String(format: "%.2f", summary.proposeSeconds) + " s, validate "
                      + String(format: "%.2f", summary.validateSeconds) + " s, store " + String(format: "%.2f", summary.storeSeconds)
                      + " s, archive+HV " + String(format: "%.2f", summary.archiveSeconds) + " s; wall " + String(format: "%.1f", summary.wallSeconds) + " s)")
                if config.usesQueue, summary.loopSteps > 0 {
                    let work = summary.proposeSeconds + summary.validateSeconds + summary.storeSeconds + summary.archiveSeconds
                    print("queue controller: \(summary.loopSteps) loop steps, \(summary.proposalSteps) of them enqueued new candidates, "
                          + String(format: "%.2f ms of work per step", work * 1000 / Double(summary.loopSteps)))
                }
                print("wrote \(store.directory.appendingPathComponent("pareto.json").path) and candidates.csv")
            }
            if let why = summary.stopReason {
                // The last line a user sees names why the run stopped early (stderr under --json).
                if json { FileHandle.standardError.write(Data("run \(summary.status): \(why)\n".utf8)) } else { print("run \(summary.status): \(why)") }
            }
            if summary.status != "done" { throw ExitCode(1) }
            // The finish step writes the same run: it reuses this store and its lock.
            if let f = finishStep { try f.execute(quiet: json, store: store) }
        } catch let e as ExitCode {
            throw e
        } catch {
            throw fail(error)
        }
    }
}
