import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeEngine
import TinyForgeExplain
import TinyForgeHardware
import TinyForgeLLM
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
        let (ds, splits) = try loadData()

        step(2, "search")
        let (tgt, budget) = try BudgetOptions.resolve(target: target, sram: sram, flash: flash, macs: macs)
        let timeout = try llmTimeout.seconds()
        let llm = try DemoLLM.resolve(requested: proposer)
        defer { llm.stop() }
        s.proposer = llm.proposer
        let found = try search(ds: ds, splits: splits, target: tgt, budget: budget, timeout: timeout, settings: s, outDir: outDir)

        step(3, "full training of the chosen model")
        let trained = try fullTraining(found, ds: ds, splits: splits, settings: s, outDir: outDir)

        step(4, "distillation from a teacher (cached when one exists)")
        let kd = try distill(found, trained, ds: ds, splits: splits, settings: s, outDir: outDir)

        step(5, "int8 export (.tflite and C)")
        let deploy = try DemoDeploy.export(checkpoint: trained.studentPath, splits: splits, norm: trained.norm, outDir: outDir)
        for line in deploy.lines { print(line) }

        step(6, "Cortex-M7 check under QEMU")
        for line in DemoDeploy.qemu(deploy) { print(line) }

        step(7, "report")
        let reportNotes = [kd.line] + deploy.lines
        // When the search used an LLM (its server still runs here), it also explains the chosen model.
        let explainLLM = s.proposer.contains("llm") ? try? ExplainLLM.config() : nil
        let explained = try ExplainCommand.buildReport(store: found.store, config: found.config, checkpoint: trained.studentPath, dataset: ds,
                                                       heatmaps: 4, notes: reportNotes, llm: explainLLM)
        let html = outDir.appendingPathComponent("report.html")
        try ReportWriter.write(explained, htmlURL: html)
        print("report: \(html.path) (JSON twin beside it)")
        print(String(format: "\ndemo finished in %.1f min; everything is in %@", Date().timeIntervalSince(start) / 60, outDir.path))
    }

    /// Fashion-MNIST when installed (generated data with `--quick` or when it is absent).
    func loadData() throws -> (String, DatasetSplits) {
        let ds = dataset ?? (quick ? "synthetic:classes=10,size=28,n=3000,test=600,seed=\(seed)"
                             : FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") ? "fashion-mnist"
                             : "synthetic:classes=10,size=28,n=20000,test=2000,seed=\(seed)")
        if dataset == nil && ds.hasPrefix("synthetic") && !quick {
            print("notice: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); using generated data")
        }
        let splits = try DatasetLoader.load(spec: try DatasetSource.parse(ds), valFraction: 0.1, seed: 42)
        print("\(ds): \(splits.train.count) train / \(splits.val.count) val images, \(splits.train.height)×\(splits.train.width)×\(splits.train.channels), \(splits.classCount) classes (test split sealed)")
        return (ds, splits)
    }

    /// What the search step leaves for the later steps.
    struct Searched {
        var store: RunStore
        var config: SearchConfig
        var runDir: URL
        var best: EvaluatedCandidate
        var chosen: ArchitectureSpec
    }

    /// A fresh search (or the resumed one in OUT/search) and its best trained front member.
    func search(ds: String, splits: DatasetSplits, target tgt: Target, budget: Budget, timeout: Double?, settings s: Settings,
                outDir: URL) throws -> Searched {
        let runDir = outDir.appendingPathComponent("search")
        let store: RunStore
        let config: SearchConfig
        if let run = try DemoSearch.openRun(directory: runDir) {
            store = run.0; config = run.1
            print("resuming the search in \(runDir.path)")
        } else {
            var llm: LLMSampling?
            if s.proposer.contains("llm") {
                llm = try llmSampling.resolve(usesLLM: true, proposer: s.proposer)
            } else if let f = llmSampling.firstGiven {
                print("notice: \(f) ignored: the demo runs \(s.proposer), not an LLM proposer")
            }
            let run = try DemoSearch.createRun(DemoSearchRequest(
                dataset: ds, splits: splits, target: tgt, budget: budget, proposer: s.proposer, llm: llm, trials: s.trials,
                proxyEpochs: s.proxyEpochs, proxySubset: s.proxySubset, seed: seed,
                workerCommand: [SearchRunOptions.selfExecutable(), "evaluate-candidate"], runDirectory: runDir))
            store = run.0; config = run.1
        }
        let proposer = try makeProposer(config, llmTimeout: timeout)
        let printer = SearchProgressPrinter(scoreLabel: "val acc")
        let report = try runBlocking {
            try await DemoSearch.run(store: store, config: config, proposer: proposer,
                                     onProgress: { printer.print($0); fflush(stdout) }, onEvent: { print($0); fflush(stdout) })
        }
        print(report.text())
        let (best, chosen) = try DemoSearch.choose(report, runDirectory: runDir, outDir: outDir)
        print("chosen: \(best.hash.prefix(12)) (proxy val acc \(String(format: "%.2f%%", (best.accuracy ?? 0) * 100)), \(Units.formatCount(best.cost.macs)) MACs, peak SRAM \(Units.formatBytes(best.cost.peakSRAMBytes)))")
        return Searched(store: store, config: config, runDir: runDir, best: best, chosen: chosen)
    }

    struct Trained {
        var full: FinishedRecord
        /// The finish step's checkpoint in the run (search/finished/<hash12>/), kept unchanged.
        var finishedModel: String
        var studentPath: String
        var recipe: TrainConfig
        var norm: Normalization
    }

    /// The shared finish step on the chosen model; its checkpoint becomes OUT/student.safetensors.
    func fullTraining(_ found: Searched, ds: String, splits: DatasetSplits, settings s: Settings, outDir: URL) throws -> Trained {
        let (store, best, runDir) = (found.store, found.best, found.runDir)
        // The shared finish step (as `tinyforge finish --top 1 --select accuracy`): recorded in
        // the run store, model in search/finished/<hash12>/, skipped when the demo is re-run.
        let norm = Normalization.compute(from: splits.train)
        var recipe = TrainConfig()
        recipe.epochs = s.epochs; recipe.batchSize = 64; recipe.schedule.baseLR = 0.1; recipe.seed = seed
        recipe.augment = splits.train.height == 28 ? AugmentConfig(cropPadding: 2, horizontalFlip: true, cutout: 0) : .none
        let finished = try FinishRun.run(FinishRequest(top: 1, rule: .accuracy, splits: splits, normalization: norm, dataset: ds,
                                                       valFraction: 0.1, splitSeed: 42, config: recipe),
                                         store: store, log: { print($0); fflush(stdout) }, progress: TrainProgressPrinter().report)
        guard let full = finished.first?.0, full.hash == best.hash, full.status == .done else {
            throw SearchError("demo", "full training of \(best.hash.prefix(12)) failed: \(finished.first?.0.reason ?? "no result"); see \(runDir.path)/finished.json")
        }
        let finishedModel = runDir.appendingPathComponent(full.directory).appendingPathComponent(FinishStep.modelFileName).path
        let studentPath = outDir.appendingPathComponent("student.safetensors").path
        try? FileManager.default.removeItem(atPath: studentPath)
        try FileManager.default.copyItem(atPath: finishedModel, toPath: studentPath)
        return Trained(full: full, finishedModel: finishedModel, studentPath: studentPath, recipe: recipe, norm: norm)
    }

    /// Distils the finished student from a cached `tinyforge teacher` (else a small 2×-wide one)
    /// and measures the gain against the same fine-tuning without the teacher (`TeacherDistillation`).
    func distill(_ found: Searched, _ trained: Trained, ds: String, splits: DatasetSplits, settings s: Settings,
                 outDir: URL) throws -> DistillationOutcome {
        let request = DistillationRequest(chosen: found.chosen, finishedModel: trained.finishedModel, before: trained.full.valAccuracy ?? 0,
                                          splits: splits, normalization: trained.norm, dataset: ds, teachersRoot: URL(fileURLWithPath: teachers),
                                          recipe: trained.recipe, teacherEpochs: s.teacherEpochs, distillEpochs: s.distillEpochs, seed: seed,
                                          outDir: outDir)
        let o = try TeacherDistillation.run(request, log: { print($0) }, progress: TrainProgressPrinter().report)
        print(o.line)
        return o
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
