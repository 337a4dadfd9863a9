import Foundation

/// Why an external build/run step of a deployment check failed. Messages name the tool and,
/// for a missing one, the Debian package that provides it.
public enum DeployToolError: Error, Equatable, CustomStringConvertible {
    case toolMissing(tool: String, aptPackage: String)
    case toolFailed(command: String, status: Int32, output: String)
    case timedOut(command: String, seconds: Double)
    case malformedOutput(reason: String)

    public var description: String {
        switch self {
        case let .toolMissing(tool, pkg):
            return "'\(tool)' is not on PATH; install it with `apt-get install -y \(pkg)`"
        case let .toolFailed(command, status, output):
            return "`\(command)` exited with status \(status):\n\(output.suffix(4000))"
        case let .timedOut(command, seconds):
            return "`\(command)` did not finish within \(seconds) s and was stopped"
        case let .malformedOutput(reason):
            return "unexpected tool output: \(reason)"
        }
    }
}

/// Runs external tools (compilers, QEMU) with output captured to files and a time limit.
enum ToolRunner {
    /// Absolute path of `tool` in `searchPath` (colon-separated; default: PATH), or nil.
    static func find(_ tool: String, searchPath: String? = nil) -> String? {
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func require(_ tool: String, apt: String, searchPath: String? = nil) throws -> String {
        guard let p = find(tool, searchPath: searchPath) else { throw DeployToolError.toolMissing(tool: tool, aptPackage: apt) }
        return p
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String; var seconds: Double }

    /// Runs `executable args` in `directory`; throws `toolFailed` on a non-zero exit unless
    /// `allowFailure`, `timedOut` when it runs past `timeout` seconds (the process is stopped).
    @discardableResult
    static func run(_ executable: String, _ args: [String], in directory: URL, timeout: Double = 300,
                    allowFailure: Bool = false) throws -> Result {
        let tag = UUID().uuidString.prefix(8)
        let outURL = directory.appendingPathComponent(".run-\(tag).out")
        let errURL = directory.appendingPathComponent(".run-\(tag).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = directory
        p.standardOutput = outHandle
        p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        let start = Date()
        try p.run()
        let command = ([executable] + args).joined(separator: " ")
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            _ = done.wait(timeout: .now() + 5)
            try? outHandle.close(); try? errHandle.close()
            throw DeployToolError.timedOut(command: command, seconds: timeout)
        }
        let seconds = Date().timeIntervalSince(start)
        try? outHandle.close(); try? errHandle.close()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        if p.terminationStatus != 0 && !allowFailure {
            throw DeployToolError.toolFailed(command: command, status: p.terminationStatus, output: out + err)
        }
        return Result(status: p.terminationStatus, stdout: out, stderr: err, seconds: seconds)
    }
}
