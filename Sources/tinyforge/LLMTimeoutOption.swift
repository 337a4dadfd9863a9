import ArgumentParser
import TinyForgeLLM

/// `--llm-timeout SECONDS`, shared by every command that can talk to an LLM (search, compare,
/// demo). Not stored with a run: like the endpoint, it belongs to the machine the run is on,
/// so `--resume` takes it again from the flag or TINYFORGE_LLM_TIMEOUT.
struct LLMTimeoutOption: ParsableArguments {
    @Option(name: .customLong("llm-timeout"),
            help: ArgumentHelp("Seconds per LLM request attempt before it counts as timed out (the whole reply: requests are not streamed). Default: TINYFORGE_LLM_TIMEOUT, else \(Int(LLMConfig.defaultLocalTimeoutSeconds)) (safe for the local SmolLM2 on a loaded 2-core machine; 60 or less on an idle machine or a GPU server).",
                               valueName: "SECONDS"))
    var llmTimeout: String?

    /// The flag's value, checked; nil when not given (the environment or the default applies).
    func seconds() throws -> Double? {
        try llmTimeout.map { try LLMConfig.parseTimeout($0, source: "--llm-timeout") }
    }
}
