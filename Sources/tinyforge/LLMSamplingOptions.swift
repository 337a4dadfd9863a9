import ArgumentParser
import Foundation
import TinyForgeLLM
import TinyForgeSearch

/// `--llm-model`, `--llm-temperature`, `--llm-top-p`, `--llm-min-p`, `--llm-max-tokens` and
/// `--llm-preset` (search, compare, demo). Resolved with the `TINYFORGE_LLM_*` variables by
/// `LLMSampling.resolve` (flags win, explicit values beat a preset) and stored in the run's config.
struct LLMSamplingOptions: ParsableArguments {
    @Option(help: "LLM model name sent in every request (env TINYFORGE_LLM_MODEL).")
    var llmModel: String?

    @Option(help: "LLM sampling temperature, 0...5 (env TINYFORGE_LLM_TEMPERATURE; default 0.8).")
    var llmTemperature: Double?

    @Option(help: "LLM nucleus sampling top-p, (0, 1] (env TINYFORGE_LLM_TOP_P; default: the server's).")
    var llmTopP: Double?

    @Option(help: "LLM min-p sampling, [0, 1) (env TINYFORGE_LLM_MIN_P; default: the server's).")
    var llmMinP: Double?

    @Option(help: "LLM generation limit in tokens, 1...131072 (env TINYFORGE_LLM_MAX_TOKENS; default 1800).")
    var llmMaxTokens: Int?

    @Option(help: "LLM sampling preset: paper = temperature 1.5, min-p 0.1 as published (env TINYFORGE_LLM_PRESET); explicit --llm-* flags override it.")
    var llmPreset: String?

    var flags: LLMSampling {
        LLMSampling(model: llmModel, temperature: llmTemperature, topP: llmTopP, minP: llmMinP, maxTokens: llmMaxTokens)
    }

    /// The first flag given, for "only applies to an LLM proposer".
    var firstGiven: String? {
        [("--llm-model", llmModel != nil), ("--llm-temperature", llmTemperature != nil), ("--llm-top-p", llmTopP != nil),
         ("--llm-min-p", llmMinP != nil), ("--llm-max-tokens", llmMaxTokens != nil), ("--llm-preset", llmPreset != nil)]
            .first { $0.1 }?.0
    }

    /// The sampling to store for a run: nil when no proposer of the run uses the LLM (a
    /// `--llm-*` flag is then an error naming it); else flags over environment over defaults,
    /// every value filled in as the client will send it.
    func resolve(usesLLM: Bool, proposer: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LLMSampling? {
        guard usesLLM else {
            if let f = firstGiven { throw LLMSamplingError.needsLLMProposer(field: f, proposer: proposer) }
            return nil
        }
        let s = try LLMSampling.resolve(flags: flags, flagPreset: llmPreset, environment: environment)
        let base = (try? LLMConfig.fromEnvironment(environment)) ?? nil
        return s.resolved(against: base ?? LLMConfig.localLlamaCpp(baseURL: ""))
    }
}
