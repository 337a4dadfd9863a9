import ArgumentParser
import Foundation
import TinyForgeSearch

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Inspect search runs.", subcommands: [ShowRun.self])

    struct ShowRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Print a run's Pareto front; write pareto.json and candidates.csv into the run directory.")

        @Argument(help: "Run directory.")
        var directory: String

        @Flag(help: "Print pareto.json instead of the table.")
        var json = false

        func run() throws {
            do {
                let store = try RunStore.open(directory: URL(fileURLWithPath: directory))
                let report = try RunReport(store: store)
                let files = try report.writeFiles(store: store)
                if json {
                    print(report.paretoJSON().prettyText())
                } else {
                    print(report.text())
                    print("wrote \(files.joined(separator: " and "))")
                }
            } catch {
                throw fail(error)
            }
        }
    }
}
