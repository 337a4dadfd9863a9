import Foundation
import TinyForgeExplain
import TinyForgeLLM
import TinyForgeSearch
import TinyForgeSpec

/// The paper's explanation step for `tinyforge explain --llm` (and the demo when it uses an
/// LLM): the chosen model's facts go to the LLM, its sentences come back fact-checked. Any
/// failure becomes one note and the deterministic explanation stands alone.
enum ExplainLLM {
    /// The endpoint for `--llm`, from the same environment as the `llm` proposer
    /// (TINYFORGE_LLM_URL, TINYFORGE_LLM_PROVIDER, TINYFORGE_LLM_MODEL, TINYFORGE_LLM_STRUCTURED).
    static func config(environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> LLMConfig {
        guard let c = try LLMConfig.fromEnvironment(env) else {
            throw SearchError("--llm", "needs an endpoint: set TINYFORGE_LLM_URL (e.g. `scripts/llm-server.sh run -- tinyforge explain RUN --llm` for the local model, or an Ollama / vLLM URL with TINYFORGE_LLM_PROVIDER and TINYFORGE_LLM_MODEL)")
        }
        try c.validate()
        return c
    }

    /// Asks the LLM and checks its sentences; returns the narrative or the one-line note that
    /// replaces it. The seed comes from the chosen hash, so a re-run asks the same question
    /// with the same sampling.
    static func narrate(report: ExplainReport, candidates: [ExplainCandidate], finished: ExplanationFacts.Finished?,
                        config: LLMConfig) -> Result<NarrativeExplanation, NarrationFailure> {
        guard let chosen = report.chosen, let spec = candidates.first(where: { $0.hash == chosen.hash })?.spec,
              let facts = ExplanationFacts.build(report: report, candidates: candidates, finished: finished) else {
            return .failure(NarrationFailure(note: "LLM explanation skipped: the report has no chosen model (no trained candidate inside the budget)"))
        }
        let explainer = LLMExplainer(client: makeLLMClient(config), model: config.model)
        do {
            let reply = try explainer.explainBlocking(facts, seed: config.seed ?? UInt64(chosen.hash.prefix(12), radix: 16))
            return .success(NarrativeExplanation.check(sentences: reply.sentences, model: reply.model, facts: facts.text,
                                                       spec: spec, explanation: chosen))
        } catch {
            return .failure(NarrationFailure(note: "LLM explanation skipped: \(error); the deterministic explanation stands alone"))
        }
    }

    struct NarrationFailure: Error { var note: String }

    /// A narrative stored by an earlier `explain --llm` of the same chosen model, re-checked:
    /// explaining again without `--llm` (to add heatmaps, say) keeps the LLM's text.
    static func restored(store: RunStore, report: ExplainReport, candidates: [ExplainCandidate]) -> NarrativeExplanation? {
        guard let chosen = report.chosen, let spec = candidates.first(where: { $0.hash == chosen.hash })?.spec,
              case .object(let o)? = try? store.storedExplanation(hash: chosen.hash),
              let stored = o["llm_explanation"] else { return nil }
        return NarrativeExplanation.restore(stored, spec: spec, explanation: chosen)
    }

    /// One line per sentence and per verdict, for the terminal.
    static func lines(_ n: NarrativeExplanation) -> [String] {
        var out = ["LLM explanation (\(n.model)): \(n.checks.count) claim(s) checked: \(n.count(.true)) true, \(n.count(.false)) false, \(n.count(.unverifiable)) unverifiable; \(n.unchecked.count) sentence(s) without a checkable claim"]
        for s in n.sentences { out.append("  > \(s)") }
        for c in n.checks { out.append("  [\(c.verdict.rawValue)] \"\(c.claim.quote)\" (\(c.claim.scope.label)): \(c.evidence)") }
        return out
    }
}
