import Foundation

/// What a finished external command left: its exit status and both output streams.
public struct CommandOutput: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String = "", stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Why an external command could not be run at all (a non-zero exit is not an error here: the
/// caller reads `CommandOutput.status`, because for Slurm's tools it often carries a message the
/// user must see).
public enum CommandRunnerError: Error, Equatable, CustomStringConvertible {
    case toolNotFound(tool: String, searchPath: String)
    case launchFailed(tool: String, reason: String)
    case timedOut(command: String, seconds: Double)

    public var description: String {
        switch self {
        case let .toolNotFound(tool, path): return "'\(tool)' is not on PATH (\(path))"
        case let .launchFailed(tool, reason): return "could not start '\(tool)': \(reason)"
        case let .timedOut(command, seconds): return "`\(command)` did not finish within \(seconds) s and was stopped"
        }
    }
}

/// The one way the launchers call external tools (sbatch, squeue, sacct, scancel), so the
/// tests can put a scripted fake in its place and check every call and every parse.
public protocol CommandRunner: Sendable {
    /// Runs `tool` (looked up on PATH) with `arguments`; `environment` entries are added to (and
    /// override) this process's environment for the child only.
    func run(_ tool: String, _ arguments: [String], environment: [String: String]) throws -> CommandOutput
}

extension CommandRunner {
    public func run(_ tool: String, _ arguments: [String]) throws -> CommandOutput {
        try run(tool, arguments, environment: [:])
    }
}

/// Runs real processes, output captured through pipes (both read concurrently, so a long
/// `squeue` listing cannot fill one pipe and block the child), with a time limit because
/// Slurm's clients retry for a long time when slurmctld is unreachable.
public struct SystemCommandRunner: CommandRunner {
    public var timeout: Double
    public var searchPath: String

    public init(timeout: Double = 120, searchPath: String? = nil) {
        self.timeout = timeout
        self.searchPath = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    }

    /// Absolute path of `tool` on the search path, or nil.
    public func find(_ tool: String) -> String? {
        if tool.contains("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        for dir in searchPath.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(tool)") {
            return "\(dir)/\(tool)"
        }
        return nil
    }

    public func run(_ tool: String, _ arguments: [String], environment: [String: String]) throws -> CommandOutput {
        guard let path = find(tool) else { throw CommandRunnerError.toolNotFound(tool: tool, searchPath: searchPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        do { try process.run() } catch { throw CommandRunnerError.launchFailed(tool: tool, reason: "\(error)") }
        let outData = PipeDrain(out.fileHandleForReading), errData = PipeDrain(err.fileHandleForReading)
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = done.wait(timeout: .now() + 5)
            throw CommandRunnerError.timedOut(command: ([tool] + arguments).joined(separator: " "), seconds: timeout)
        }
        return CommandOutput(status: process.terminationStatus,
                             stdout: String(decoding: outData.wait(), as: UTF8.self),
                             stderr: String(decoding: errData.wait(), as: UTF8.self))
    }
}

/// Reads a pipe to its end on another thread.
private final class PipeDrain: @unchecked Sendable {
    private var data = Data()
    private let finished = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.finished.signal()
        }
    }

    func wait() -> Data {
        finished.wait()
        return data
    }
}
