import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TinyForgeSpec

/// Which proposer the demo uses, and the local LLM server it may have started.
struct DemoLLM {
    var proposer: String
    var startedServer: Bool

    /// The local model the demo starts (`scripts/llm-server.sh start --model …`) and its name
    /// for messages. Chosen by the side-by-side measurement in bench/RESULTS-search.md ("Local models").
    static let localModel = (script: "smollm2", name: "SmolLM2-135M")

    /// An explicit `--proposer` wins; otherwise the LLM when TINYFORGE_LLM_URL is set or the
    /// local server (scripts/llm-server.sh, installed) can be started; otherwise evolution,
    /// with a notice saying why.
    static func resolve(requested: String?) throws -> DemoLLM {
        if let r = requested, r != "llm" { return DemoLLM(proposer: r, startedServer: false) }
        let env = ProcessInfo.processInfo.environment
        if let url = env["TINYFORGE_LLM_URL"], !url.isEmpty {
            print("LLM proposer: \(url) (TINYFORGE_LLM_URL); random proposals fill in when all of the LLM's are rejected")
            return DemoLLM(proposer: "llm+random", startedServer: false)
        }
        let script = "scripts/llm-server.sh"
        guard FileManager.default.fileExists(atPath: script) else {
            if requested == "llm" { throw SpecError(path: "--proposer llm", message: "no endpoint: set TINYFORGE_LLM_URL or run from the repository root (scripts/llm-server.sh)") }
            print("notice: no LLM endpoint configured and scripts/llm-server.sh not found here; using evolution instead")
            return DemoLLM(proposer: "evolution", startedServer: false)
        }
        print("starting the local LLM (\(localModel.name) via llama.cpp) with \(script) start --model \(localModel.script) …")
        let status = run(["bash", script, "start", "--model", localModel.script])
        guard status == 0 else {
            if requested == "llm" { throw SpecError(path: "--proposer llm", message: "the local LLM server did not start (run `bash \(script) install --model \(localModel.script)` first)") }
            print("notice: the local LLM server could not start (install it with `bash \(script) install --model \(localModel.script)`); using evolution instead")
            return DemoLLM(proposer: "evolution", startedServer: false)
        }
        let port = (try? String(contentsOfFile: ".venv-llm/run/server.port", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "8085"
        setenv("TINYFORGE_LLM_URL", "http://127.0.0.1:\(port)", 1)
        print("LLM proposer: http://127.0.0.1:\(port); random proposals fill in when all of the LLM's are rejected")
        return DemoLLM(proposer: "llm+random", startedServer: true)
    }

    func stop() {
        if startedServer { _ = Self.run(["bash", "scripts/llm-server.sh", "stop"]) }
    }

    /// Runs a shell command and waits for it. Not Foundation's `Process`: on Linux its
    /// waitUntilExit() also waits for descendants holding an inherited descriptor, and the LLM
    /// server the script starts in the background lives on; `system` waits for the shell only.
    static func run(_ args: [String]) -> Int32 {
        let command = args.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        fflush(stdout)
        let status = system(command)
        guard status != -1 else { return -1 }
        return (status >> 8) & 0xFF
    }
}
