import Foundation
import TinyForgeLaunch

/// A scripted `CommandRunner`: records every call and answers each tool from its queue of
/// outputs (the last one repeats), so the launcher's parsing is tested without Slurm.
final class FakeCommandRunner: CommandRunner, @unchecked Sendable {
    struct Call: Equatable {
        var tool: String
        var arguments: [String]
        var environment: [String: String]
    }

    private let lock = NSLock()
    private var queues: [String: [CommandOutput]]
    private let missing: Set<String>
    private var recorded: [Call] = []

    init(_ responses: [String: [CommandOutput]] = [:], missing: Set<String> = []) {
        queues = responses
        self.missing = missing
    }

    var calls: [Call] { lock.withLock { recorded } }

    func calls(to tool: String) -> [Call] { calls.filter { $0.tool == tool } }

    func run(_ tool: String, _ arguments: [String], environment: [String: String]) throws -> CommandOutput {
        try lock.withLock {
            recorded.append(Call(tool: tool, arguments: arguments, environment: environment))
            if missing.contains(tool) { throw CommandRunnerError.toolNotFound(tool: tool, searchPath: "/fake") }
            guard var queue = queues[tool], let first = queue.first else {
                return CommandOutput(status: 127, stderr: "fake: no answer scripted for \(tool)")
            }
            if queue.count > 1 { queue.removeFirst(); queues[tool] = queue }
            return first
        }
    }
}

/// A fresh temporary directory, removed by the caller's tearDown.
func temporaryDirectory(_ tag: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinyforge-\(tag)-\(getpid())-\(UUID().uuidString.prefix(6))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
