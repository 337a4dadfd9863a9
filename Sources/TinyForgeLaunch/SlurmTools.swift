import Foundation

/// Slurm's client tools, each call through the `CommandRunner`, with their failures mapped to
/// `SlurmLaunchError` (a missing tool names how to get it; a failure carries Slurm's message).
struct SlurmTools: Sendable {
    let runner: CommandRunner

    func call(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandOutput {
        do {
            return try runner.run(tool, arguments, environment: environment)
        } catch CommandRunnerError.toolNotFound {
            throw SlurmLaunchError.toolMissing(tool: tool)
        } catch let error as CommandRunnerError {
            throw SlurmLaunchError.toolFailed(command: tool, status: -1, message: error.description)
        }
    }

    /// The job id from `sbatch --parsable` (`123` or `123;cluster`).
    func sbatch(_ arguments: [String], environment: [String: String]) throws -> String {
        let out = try call("sbatch", arguments, environment: environment)
        guard out.status == 0 else { throw SlurmLaunchError.submissionRejected(message: Self.message(out)) }
        let id = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmLaunchError.unexpectedOutput(command: "sbatch --parsable", output: out.stdout + out.stderr)
        }
        return id
    }

    /// Tasks squeue lists for the job (state, pending reason); empty once slurmctld purged it.
    func squeue(jobID: String) throws -> [Int: SlurmTaskEntry] {
        let args = ["--noheader", "--array", "--states=all", "--jobs=\(jobID)", "--format=%i|%T|%r"]
        let out = try call("squeue", args)
        if out.status != 0 {
            if out.stderr.contains("Invalid job id") { return [:] }
            throw SlurmLaunchError.toolFailed(command: "squeue " + args.joined(separator: " "), status: out.status, message: Self.message(out))
        }
        return SlurmListing.parse(out.stdout, jobID: jobID)
    }

    /// Task states from accounting, or nil when the cluster keeps none (sacct missing or
    /// "accounting storage is disabled"): then squeue is all there is.
    func sacct(jobID: String) -> [Int: SlurmTaskState]? {
        let args = ["--noheader", "--parsable2", "--allocations", "--jobs=\(jobID)", "--format=JobID,State"]
        guard let out = try? call("sacct", args), out.status == 0 else { return nil }
        return SlurmListing.parse(out.stdout, jobID: jobID).mapValues(\.state)
    }

    /// Cancels every task of the job. A job that already ended (or was purged) is not an error:
    /// the caller cancels on every exit path, including after a normal end.
    func scancel(jobID: String) throws {
        let out = try call("scancel", [jobID])
        let text = out.stderr + out.stdout
        if out.status != 0 && !text.contains("Invalid job id") && !text.contains("already completing or completed") {
            throw SlurmLaunchError.toolFailed(command: "scancel \(jobID)", status: out.status, message: Self.message(out))
        }
    }

    static func message(_ out: CommandOutput) -> String {
        let text = (out.stderr + "\n" + out.stdout).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "(no message)" : text
    }
}
