import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeEngine
import TinyForgeExplain
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSearch
import TinyForgeSpec
import TinyForgeTraining

/// The main job on the embedded default: data → LLM-guided search under an MCU budget → full
/// training of the best → distillation (a cached `tinyforge teacher`, else a small 2×-wide one) → int8 export (.tflite
/// and C) → QEMU Cortex-M7 check → report. Every step prints progress and leaves its files in OUT.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The whole pipeline end to end on Fashion-MNIST (or generated data when absent) under an MCU budget.")

    @Option(help: "Output directory.") var out: String = "out/demo"
    @Option(help: "Dataset (default: Fashion-MNIST when installed, else generated data).") var dataset: String?
    @Option(help: "Proposer: llm (default when an endpoint is reachable), evolution, nsga2, random.") var proposer: String?
    @Option(help: "Candidates evaluated by the search.") var trials: Int = 12
    @Option(help: "Proxy-training epochs per candidate.") var proxyEpochs: Int = 1
    @Option(help: "Fraction of the training split per candidate.") var proxySubset: Double = 0.15
    @Option(help: "Full-training epochs of the chosen model.") var epochs: Int = 4
    @Option(help: "Where `tinyforge teacher` outputs are looked up: a teacher trained on this dataset and split is used (cached logits).") var teachers: String = "teachers"
    @Option(help: "Without a cached teacher: training epochs of the small one (the chosen network at twice the width).") var teacherEpochs: Int = 3
    @Option(help: "Distillation fine-tuning epochs.") var distillEpochs: Int = 2
    @Option(help: "MCU target.") var target: String = "stm32f746"
    @Option(help: "SRAM budget.") var sram: String = "64KB"
    @Option(help: "Flash budget.") var flash: String = "256KB"
    @Option(help: "MAC budget.") var macs: String = "6M"
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Flag(help: "A fast smoke run (generated data, few trials, one epoch each): for CI.") var quick = false
    @OptionGroup var llmSampling: LLMSamplingOptions
    @OptionGroup var llmTimeout: LLMTimeoutOption

    func run() throws {
        do { try runDemo() } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }

    func step(_ n: Int, _ title: String) {
        print("\n== [\(n)/7] \(title)")
        fflush(stdout)
    }

    func runDemo() throws {
        let start = Date()
        let outDir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        var s = Settings(self)

        step(1, "data")
        let ds = dataset ?? (quick ? "synthetic:classes=10,size=28,n=3000,test=600,seed=\(seed)"
                             : FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") ? "fashion-mnist"
                             : "synthetic:classes=10,size=28,n=20000,test=2000,seed=\(seed)")
        if dataset == nil && ds.hasPrefix("synthetic") && !quick {
            print("notice: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); using generated data")
        }
        let splits = try DatasetLoader.load(spec: try DatasetSource.parse(ds), valFraction: 0.1, seed: 42)
        print("\(ds): \(splits.train.count) train / \(splits.val.count) val images, \(splits.train.height)×\(splits.train.width)×\(splits.train.channels), \(splits.classCount) classes (test split sealed)")

        step(2, "search")
        let (tgt, budget) = try BudgetOptions.parse(["--target", target, "--sram", sram, "--flash", flash, "--macs", macs]).resolve()
        let timeout = try llmTimeout.seconds()
        let llm = try DemoLLM.resolve(requested: proposer)
        defer { llm.stop() }
        s.proposer = llm.proposer
        var space = SearchSpace.mcu28
        space.inputChannels = splits.train.channels
        space.resolutions = [splits.train.height]
        let runDir = outDir.appendingPathComponent("search")
        let store: RunStore
        let config: SearchConfig
        if FileManager.default.fileExists(atPath: runDir.appendingPathComponent("run.sqlite").path) {
            store = try RunStore.open(directory: runDir, lock: .init(command: "demo"))
            config = try store.config()
            print("resuming the search in \(runDir.path)")
        } else {
            var c = SearchConfig(space: space, task: TaskInfo(dataset: ds, numClasses: splits.classCount), target: tgt, budget: budget,
                                 proposer: s.proposer, trials: s.trials, batch: 4, workers: 1,
                                 settings: EvaluationSettings(dataset: ds, epochs: s.proxyEpochs, subset: s.proxySubset, seed: seed,
                                                              extraArgs: ["--batch", "64", "--lr", "0.1"]),
                                 seed: seed, evaluator: "process")
            c.populationSize = 6
            if s.proposer.contains("llm") {
                c.llm = try llmSampling.resolve(usesLLM: true, proposer: s.proposer)
            } else if let f = llmSampling.firstGiven {
                print("notice: \(f) ignored: the demo runs \(s.proposer), not an LLM proposer")
            }
            c.workerCommand = [SearchRunOptions.selfExecutable(), "evaluate-candidate"]
            try c.validate()
            config = c
            store = try RunStore.create(directory: runDir, config: c, lock: .init(command: "demo"))
        }
        let controller = SearchController(store: store, config: config, proposer: try makeProposer(config, llmTimeout: timeout),
                                          evaluator: config.makeEvaluator(runDirectory: store.directory))
        let printer = SearchProgressPrinter(scoreLabel: "val acc")
        controller.onProgress = { printer.print($0); fflush(stdout) }
        controller.onEvent = { print($0); fflush(stdout) }
        _ = try runBlocking { try await controller.run() }
        let report = try RunReport(store: store)
        try report.writeFiles(store: store)
        print(report.text())
        guard let best = report.frontSortedByScore().first(where: { $0.accuracy != nil }) else {
            throw SearchError("demo", "the search produced no trained candidate inside the budget; see \(runDir.path)/candidates.csv")
        }
        var chosen = best.spec
        chosen.name = "demo-\(best.hash.prefix(8))"
        try AtomicFile.write(chosen.jsonText(), to: outDir.appendingPathComponent("chosen.json"))
        print("chosen: \(best.hash.prefix(12)) (proxy val acc \(String(format: "%.2f%%", (best.accuracy ?? 0) * 100)), \(Units.formatCount(best.cost.macs)) MACs, peak SRAM \(Units.formatBytes(best.cost.peakSRAMBytes)))")

        step(3, "full training of the chosen model")
        // The shared finish step (as `tinyforge finish --top 1 --select accuracy`): recorded in
        // the run store, model in search/finished/<hash12>/, skipped when the demo is re-run.
        let norm = Normalization.compute(from: splits.train)
        var recipe = TrainConfig()
        recipe.epochs = s.epochs; recipe.batchSize = 64; recipe.schedule.baseLR = 0.1; recipe.seed = seed
        recipe.augment = splits.train.height == 28 ? AugmentConfig(cropPadding: 2, horizontalFlip: true, cutout: 0) : .none
        let finished = try FinishCommand.finish(store: store, top: 1, rule: .accuracy, splits: splits, normalization: norm, dataset: ds,
                                                valFraction: 0.1, splitSeed: 42, config: recipe, teacher: nil)
        guard let full = finished.first?.0, full.hash == best.hash, full.status == .done else {
            throw SearchError("demo", "full training of \(best.hash.prefix(12)) failed: \(finished.first?.0.reason ?? "no result"); see \(runDir.path)/finished.json")
        }
        let finishedModel = runDir.appendingPathComponent(full.directory).appendingPathComponent(FinishStep.modelFileName).path
        let studentPath = outDir.appendingPathComponent("student.safetensors").path
        try? FileManager.default.removeItem(atPath: studentPath)
        try FileManager.default.copyItem(atPath: finishedModel, toPath: studentPath)

        step(4, "distillation from a teacher (cached when one exists)")
        let kd = try DemoDistill.run(chosen: chosen, finishedModel: finishedModel, before: full.valAccuracy ?? 0, splits: splits, norm: norm,
                                     dataset: ds, teachersRoot: URL(fileURLWithPath: teachers), recipe: recipe,
                                     teacherEpochs: s.teacherEpochs, distillEpochs: s.distillEpochs, seed: seed, outDir: outDir)

        step(5, "int8 export (.tflite and C)")
        let deploy = try DemoDeploy.export(checkpoint: studentPath, splits: splits, norm: norm, outDir: outDir)
        for line in deploy.lines { print(line) }

        step(6, "Cortex-M7 check under QEMU")
        for line in DemoDeploy.qemu(deploy) { print(line) }

        step(7, "report")
        let reportNotes = [kd.line] + deploy.lines
        // When the search used an LLM (its server still runs here), it also explains the chosen model.
        let explainLLM = s.proposer.contains("llm") ? try? ExplainLLM.config() : nil
        let explained = try ExplainCommand.buildReport(store: store, config: config, checkpoint: studentPath, dataset: ds,
                                                       heatmaps: 4, notes: reportNotes, llm: explainLLM)
        let html = outDir.appendingPathComponent("report.html")
        try ReportWriter.write(explained, htmlURL: html)
        print("report: \(html.path) (JSON twin beside it)")
        print(String(format: "\ndemo finished in %.1f min; everything is in %@", Date().timeIntervalSince(start) / 60, outDir.path))
    }

    /// Demo sizes; `--quick` shrinks them for CI.
    struct Settings {
        var proposer = "evolution"
        var trials: Int, proxyEpochs: Int, proxySubset: Double, epochs: Int, teacherEpochs: Int, distillEpochs: Int
        init(_ d: DemoCommand) {
            trials = d.quick ? 4 : d.trials
            proxyEpochs = d.quick ? 1 : d.proxyEpochs
            proxySubset = d.quick ? 0.5 : d.proxySubset
            epochs = d.quick ? 1 : d.epochs
            teacherEpochs = d.quick ? 1 : d.teacherEpochs
            distillEpochs = d.quick ? 1 : d.distillEpochs
        }
    }
}
