import ArgumentParser
import Foundation

@main
struct TinyForgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tinyforge",
        abstract: "Design int8 CNNs for microcontrollers: search, train, distil, explain, deploy.",
        subcommands: [ProfileCommand.self, SpaceCommand.self, TrainCommand.self, EvaluateCommand.self,
                      EvaluateCandidateCommand.self, WorkerCommand.self, SearchCommand.self, FinishCommand.self, TeacherCommand.self, RunsCommand.self, CompareCommand.self,
                      ExplainCommand.self, ExportCommand.self, DeployCheckCommand.self, PredictCommand.self, ExportImagesCommand.self,
                      DatasetInfoCommand.self, WorkersCommand.self,
                      DemoCommand.self])

    /// Runs the command with one exit-code convention for every subcommand: 0 success, 1 a
    /// result that failed (budget, device mismatch), 2 any usage error. ArgumentParser exits
    /// 64 (EX_USAGE) for its own parse errors and for `ValidationError`, which made the same
    /// kind of bad flag exit 64 from `train` and 2 from `search`; here those become 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            var stderr = StandardError()
            print(fullMessage(for: error), to: &stderr)
            Foundation.exit(2)
        }
    }
}

/// Prints a user error (what is wrong, where, how to fix) and exits with status 2.
/// Used for every bad input so no path ends in a crash or a stack trace.
func fail(_ error: Error) -> ExitCode {
    var stderr = StandardError()
    print("error: \(error)", to: &stderr)
    return ExitCode(2)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}
