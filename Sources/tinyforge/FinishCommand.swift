import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeHardware
import TinyForgePipeline
import TinyForgeSearch
import TinyForgeSpec
import TinyForgeTraining

/// `tinyforge finish RUN --top K`: the search ranks by short proxy trainings; this trains the
/// chosen front members properly (full training split, longer schedule, optional distillation)
/// so what gets deployed is a finished model, not a proxy.
struct FinishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finish",
        abstract: "Fully train K members of a run's Pareto front with a longer schedule (distilled when a teacher is given).",
        discussion: """
            Selection (--select): spread (default) = the most accurate member first, then repeatedly the member
            farthest (max–min Euclidean distance) from those already picked in normalised cost space (each cost
            objective of the run / its budget limit); accuracy = the K most accurate; knee = the K closest to the
            ideal point after min–max normalising every objective over the front.
            Writes RUN/finished/<hash12>/{model.safetensors, metrics.json, architecture.json} and RUN/finished.json
            and records each member in RUN/run.sqlite. Accuracies are on the validation split (never test).
            Resumable: members already finished with the same settings are skipped, interrupted ones retrained.
            Example: tinyforge finish runs/a --top 3 --epochs 30 --lr 0.1 --augment digits --teacher-logits t.npy
            """)

    @Argument(help: "Run directory (written by tinyforge search); with a PostgreSQL --store, where finished/ and finished.json go.")
    var runDirectory: String?
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Number of front members to train.") var top: Int
    @Option(name: .customLong("select"), help: "Which members: spread, accuracy or knee (see below).") var select: String = "spread"
    @Option(help: "Dataset source (default: the run's dataset).") var dataset: String?
    @Flag(help: "folder: datasets: leave out undecodable images instead of failing.") var skipBadImages = false
    @Option(help: "Validation fraction (default: the run's, else 0.1).") var valFraction: Double?
    @Option(help: "Seed of the validation split (default: the run's, else 42).") var splitSeed: UInt64?
    @OptionGroup var recipe: RecipeOptions
    @OptionGroup var teacherOptions: TeacherOptions
    @Option(help: "With a teacher: scratch (distil from fresh weights, --epochs) or finished (train --epochs without the teacher, then distil the finished student for --kd-epochs, as the paper).") var kdFrom: String = "scratch"
    @Option(help: "With --kd-from finished: distillation epochs (default: a third of --epochs, at least 1).") var kdEpochs: Int?
    @Option(help: "With --kd-from finished: peak learning rate of the distillation (default: --lr / 5).") var kdLr: Float?
    @Flag(help: "Print finished.json instead of progress and a table.") var json = false
    @Flag(help: "Break the run's lock when its holder is on another host and its heartbeat is older than 60 s (see `tinyforge runs unlock`).")
    var breakLock = false

    func run() throws {
        do { try execute(quiet: json) } catch let e as ExitCode { throw e } catch { throw fail(error) }
        if json, let location = try? storeOptions.location(directory: runDirectory, option: "<run-directory>"),
           let store = try? RunStore.openReadOnly(at: location),
           let j = try? FinishStep.summaryJSON(store: store) {
            print(j.prettyText())
        }
    }

    /// Parses the options, loads data and teacher, then runs the shared finish step. `store`: the
    /// caller's open (locked) store of the same run (`search --finish-top`); else the run is opened
    /// and locked here.
    @discardableResult
    func execute(quiet: Bool = false, store callerStore: RunStore? = nil) throws -> [(FinishedRecord, FinishStep.Action)] {
        guard top >= 1 else { throw PipelineError.finishTop(top) }
        let rule = try FinishRule.parse(select)
        let store = try callerStore ?? RunStore.open(at: try storeOptions.location(directory: runDirectory, option: "<run-directory>"),
                                                      lock: .init(command: "finish", breakStale: breakLock))
        let config = try store.config()
        guard recipe.subset == 1 else { throw PipelineError.finishSubset }
        var train = try recipe.config()
        var source = dataset ?? config.task.dataset
        if skipBadImages { source = try DatasetSource.parse(source).skippingBadImages(true).description }
        let vf = valFraction ?? Self.passedValue("--val-fraction", config.settings.extraArgs).flatMap(Double.init) ?? 0.1
        let seed = splitSeed ?? Self.passedValue("--split-seed", config.settings.extraArgs).flatMap { UInt64($0) } ?? 42
        let splits = try DatasetLoader.load(spec: try DatasetSource.parse(source), valFraction: vf, seed: seed,
                                            classes: config.task.numClasses, memory: MemoryLimit.resolve(maxMemory: nil))
        let norm = Normalization.compute(from: splits.train)
        var teacher: FinishTeacher?
        var views: AugmentViews?
        if teacherOptions.kdViews != 0 || teacherOptions.kdViewSeed != nil {
            let side = try KDViewsOption.side(resolutions: try config.space().resolutions)
            views = try teacherOptions.views(augment: train.augment, height: side, width: side)
        }
        if let logits = try teacherOptions.logits(numClasses: config.task.numClasses, splits: splits, norm: norm, dataset: source,
                                                         valFraction: vf, views: views) {
            train.distillation = try teacherOptions.distillationConfig()
            train.kdViews = KDViewsOption.config(views)
            let which = TeacherLogitsViews(views)
            teacher = FinishTeacher(logits: logits, description: teacherOptions.teacherDescription!
                                    + (which.isClean ? "" : " (\(which.description))"))
        }
        let request = FinishRequest(top: top, rule: rule, splits: splits, normalization: norm, dataset: source,
                                    valFraction: vf, splitSeed: seed, config: train, teacher: teacher,
                                    fineTune: try fineTune())
        return try FinishRun.run(request, store: store, log: quiet ? nil : { print($0); fflush(stdout) },
                                 progress: quiet ? nil : TrainProgressPrinter().report)
    }

    /// `--kd-from`: nil for distillation from scratch.
    func fineTune() throws -> FinishTrainer.FineTune? {
        switch kdFrom {
        case "scratch":
            guard kdEpochs == nil, kdLr == nil else { throw SearchError("--kd-epochs/--kd-lr", "only with --kd-from finished") }
            return nil
        case "finished":
            let e = kdEpochs ?? max(1, (recipe.epochs + 2) / 3)
            guard e >= 1 else { throw SearchError("--kd-epochs", "\(e) must be at least 1") }
            let lr = kdLr ?? recipe.lr / 5
            guard lr > 0, lr.isFinite else { throw SearchError("--kd-lr", "\(lr) must be > 0") }
            return FinishTrainer.FineTune(epochs: e, learningRate: lr)
        default: throw SearchError("--kd-from", "\"\(kdFrom)\" is not one of scratch, finished")
        }
    }

    /// The value of `--name V` or `--name=V` in a worker argument list (the run's split settings).
    static func passedValue(_ name: String, _ args: [String]) -> String? {
        for (i, a) in args.enumerated() {
            if a == name, i + 1 < args.count { return args[i + 1] }
            if a.hasPrefix(name + "=") { return String(a.dropFirst(name.count + 1)) }
        }
        return nil
    }
}

/// `tinyforge search --finish-top K --finish-epochs E [--finish-arg=--lr=0.1 ...]`: the finish
/// step after a search that completed (status done).
struct SearchFinishOptions: ParsableArguments {
    @Option(help: "After a completed search, fully train this many front members (as `tinyforge finish --top K`).") var finishTop: Int?
    @Option(help: "Epochs of that training (as `tinyforge finish --epochs`).") var finishEpochs: Int?
    @Option(help: "Extra argument for the finish step, written --finish-arg=--lr=0.1 (repeatable).") var finishArg: [String] = []

    /// The finish command to run after the search, checked before the search starts so a typo
    /// does not surface only after hours of search.
    func command(runDirectory: String) throws -> FinishCommand? {
        guard let k = finishTop else {
            if finishEpochs != nil || !finishArg.isEmpty {
                throw SearchError("--finish-epochs/--finish-arg", "need --finish-top K (the number of front members to finish)")
            }
            return nil
        }
        guard k >= 1 else { throw SearchError("--finish-top", "\(k) must be at least 1") }
        let args = [runDirectory, "--top", "\(k)"] + (finishEpochs.map { ["--epochs", "\($0)"] } ?? []) + finishArg
        do { return try FinishCommand.parse(args) } catch {
            throw SearchError("--finish-arg", "\(FinishCommand.message(for: error)) (arguments passed on to finish: \(args.dropFirst().joined(separator: " ")))")
        }
    }
}
