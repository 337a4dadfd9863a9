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

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a search run: per-candidate explanations (stored in the run), rationale checks, surrogate attributions, and one self-contained HTML report with a JSON twin.",
        discussion: """
            The chosen model is the best fully trained member (`tinyforge finish`) if there is one, else the most \
            accurate trained front member inside the budget.

            --llm: the LLM of TINYFORGE_LLM_URL (and TINYFORGE_LLM_PROVIDER / _MODEL / _STRUCTURED, as for the llm \
            proposer) is given the chosen model's facts (binding constraint, peak step and live buffers, stage shares, \
            diff against its parent and nearest neighbours with measured effects, surrogate attributions) and writes a \
            short explanation; every claim in it is fact-checked (true / false / unverifiable), shown in the report and \
            stored with the chosen model's explanation in the run. If the LLM cannot be reached or its reply is \
            unusable, one note says so and the deterministic explanation stands alone. Without --llm an explanation \
            stored by an earlier --llm run of the same chosen model is kept.

            Example: scripts/llm-server.sh run -- tinyforge explain runs/a --llm
            """)

    @Argument(help: "Run directory of `tinyforge search` (with a PostgreSQL --store: where report.html goes).") var runDirectory: String?
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "A trained checkpoint of the chosen model: adds saliency heatmaps of validation images.") var checkpoint: String?
    @Option(help: "Dataset for the heatmaps (default: the run's).") var dataset: String?
    @Option(help: "Number of heatmaps.") var heatmaps: Int = 4
    @Option(help: "Report file (default RUN/report.html; the JSON twin goes beside it).") var out: String?
    @Option(help: "Extra note shown in the report (repeatable).") var note: [String] = []
    @Flag(help: "Break the run's lock when its holder is on another host and its heartbeat is older than 60 s (see `tinyforge runs unlock`).")
    var breakLock = false
    @Flag(help: "Ask the LLM of TINYFORGE_LLM_URL to explain the chosen model; its claims are fact-checked (see below).") var llm = false

    func run() throws {
        do {
            let location = try storeOptions.location(directory: runDirectory, option: "<run-directory>")
            let dir = location.localDirectory
            // A writer: the explanations are stored in the run.
            let store = try RunStore.open(at: location, lock: .init(command: "explain", breakStale: breakLock))
            let config = try store.config()
            let llmConfig = llm ? try ExplainLLM.config() : nil
            let report = try Self.buildReport(store: store, config: config, checkpoint: checkpoint,
                                              dataset: dataset ?? config.task.dataset, heatmaps: heatmaps, notes: note, llm: llmConfig)
            let html = URL(fileURLWithPath: out ?? dir.appendingPathComponent("report.html").path)
            try ReportWriter.write(report, htmlURL: html)
            let where_ = { if case .directory(let d) = location { return d.appendingPathComponent(RunStore.fileName).path } else { return "\(location)" } }()
            print("explained \(report.explanations.count) candidates (stored in \(where_))")
            print("wrote \(html.path) and \(html.deletingPathExtension().appendingPathExtension("json").path)")
        } catch { throw fail(error) }
    }

    /// `llm`: ask that LLM for the chosen model's explanation (prints its text and verdicts or
    /// the note that replaces it).
    static func buildReport(store: RunStore, config: SearchConfig, checkpoint: String?, dataset: String,
                            heatmaps: Int, notes: [String], llm: LLMConfig? = nil) throws -> ExplainReport {
        let state = try store.loadState(objectiveSpace: try config.objectiveSpace())
        var candidates: [ExplainCandidate] = state.archive.evaluated.map { e in
            ExplainCandidate(hash: e.hash, spec: e.spec, proposer: e.proposer, rationale: e.rationale,
                             parentHash: e.parents.first, valAccuracy: e.accuracy,
                             status: e.accuracy == nil ? .failed : .trained)
        }
        for r in try store.candidates(status: .rejected) {
            guard let s = r.spec else { continue }
            candidates.append(ExplainCandidate(hash: r.hash, spec: s, proposer: r.proposer, rationale: r.rationale, status: .rejected))
        }
        guard !candidates.isEmpty else {
            throw SearchError("explain", "the run has no evaluated or rejected candidates yet; run or resume the search first")
        }
        let history = try store.hypervolumeHistory()
        let series = [HypervolumeSeries(label: config.proposer, points: history.map { .init(evaluation: $0.evaluation, hypervolume: $0.hypervolume) })]
        let fitting = state.archive.front.filter { $0.accuracy != nil }
        // After `finish`, the chosen model is the best fully trained member (records come best first).
        let finished = try store.finishedRecords().first { r in
            r.status == .done && r.valAccuracy != nil && candidates.contains { $0.hash == r.hash }
        }
        let chosen = finished?.hash ?? fitting.max { ($0.accuracy ?? 0) < ($1.accuracy ?? 0) }?.hash
        var images: [ReportImage] = []
        if let ck = checkpoint { images = try saliencyImages(checkpoint: ck, dataset: dataset, count: heatmaps) }
        var allNotes = notes
        if config.evaluator == "synthetic" {
            allNotes.append("Scores come from the synthetic evaluator (a formula of architecture features for demos and tests), not from training: they are not accuracies.")
        }
        let limits = ExplainLimits(target: try config.resolvedTarget(), budget: config.budget)
        if let llm = config.llm { allNotes.append("LLM sampling: " + llm.summary + ".") }
        if let f = config.screen {
            let by = (config.screenBy ?? SurrogateScreen.defaultCriterion).rawValue
            allNotes.append("Surrogate screening: \(f)× proposals per slot, only the best by predicted \(by) trained (from \(SurrogateScreen.minimumTrained) trained candidates on).")
        }
        var report = ExplainReport.build(title: "TinyForge run \(store.directory.lastPathComponent): \(config.proposer) on \((try? config.space().name) ?? "?")",
                                         candidates: candidates, limits: limits, hypervolume: series, chosenHash: chosen,
                                         images: images, notes: allNotes)
        report.proposerEvidence = try ProposerEvidence.compute(store: store, archive: state.archive, budget: config.budget).map(\.reportRow)
        if let llm {
            let done = finished.map { ExplanationFacts.Finished(valAccuracy: $0.valAccuracy!, epochs: $0.epochs, distilled: $0.distilled) }
            switch ExplainLLM.narrate(report: report, candidates: candidates, finished: done, config: llm) {
            case .success(let n):
                report.narrative = n
                for line in ExplainLLM.lines(n) { print(line) }
            case .failure(let f):
                report.notes.append(f.note)
                print("note: \(f.note)")
                // An explanation stored by an earlier run is kept, not erased by a failed ask.
                report.narrative = ExplainLLM.restored(store: store, report: report, candidates: candidates)
            }
        } else {
            report.narrative = ExplainLLM.restored(store: store, report: report, candidates: candidates)
        }
        let narrative = report.narrative
        try store.saveExplanations(zip(candidates, report.explanations).map { c, e in
            guard let n = narrative, n.hash == c.hash, case .object(var o) = e.jsonValue else { return (c.hash, e.jsonValue) }
            o["llm_explanation"] = n.jsonValue
            return (c.hash, .object(o))
        })
        return report
    }

    /// Gradient-saliency heatmaps of the first validation images, over the grey image.
    static func saliencyImages(checkpoint: String, dataset: String, count: Int) throws -> [ReportImage] {
        let (net, contents) = try Checkpoint.load(checkpoint)
        let splits = try DatasetLoader.load(spec: try DatasetSource.parse(dataset), valFraction: 0.1, seed: 42)
        let spec = net.plan.spec
        let norm = try contents.metadata["normalization"].map { try Normalization(metadataText: $0, file: checkpoint) }
            ?? Normalization.compute(from: splits.train)
        let pre = try Trainer.preprocessor(for: spec, data: splits.val, normalization: norm, augment: .none)
        let n = min(max(count, 1), splits.val.count)
        var it = try BatchIterator(dataset: splits.val, preprocessor: pre, batchSize: n, seed: 0, shuffle: false)
        guard let b = it.next() else { return [] }
        let x = Tensor(shape: [n, spec.input.height, spec.input.width, spec.input.channels])
        b.images.withUnsafeBufferPointer { x.data.update(from: $0.baseAddress!, count: x.count) }
        let (maps, classes) = net.saliency(x)
        let px = spec.input.height * spec.input.width, ch = spec.input.channels
        return try (0..<n).map { i in
            // Grey overlay from the normalised input (first channel), rescaled to 0...255.
            let g = (0..<px).map { x[(i * px + $0) * ch] }
            let lo = g.min() ?? 0, hi = g.max() ?? 1
            let grey = g.map { UInt8(max(0, min(255, (($0 - lo) / max(hi - lo, 1e-6)) * 255))) }
            let png = try Heatmap.png(values: maps[i], width: spec.input.width, height: spec.input.height, overlay: grey,
                                      scale: max(1, 160 / spec.input.width))
            let name = splits.val.classNames?[safe: classes[i]] ?? "class \(classes[i])"
            let truth = splits.val.classNames?[safe: Int(b.labels[i])] ?? "class \(b.labels[i])"
            return ReportImage(title: "val image \(i): predicted \(name)", caption: "true: \(truth); gradient saliency |∂logit/∂input|", png: png)
        }
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
