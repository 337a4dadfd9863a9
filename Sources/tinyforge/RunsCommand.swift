import ArgumentParser
import Foundation
import TinyForgeSearch
import TinyForgeSpec

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Inspect search runs.", subcommands: [ShowRun.self, UnlockRun.self])

    struct ShowRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print a run's Pareto front; write pareto.json and candidates.csv into the run directory.",
            discussion: """
                Read-only on the store: works while a search writes the run, on a read-only copy, and never migrates
                or creates anything. The two files are replaced atomically; on a read-only directory they are skipped
                (said on stderr) and the front is still printed.
                """)

        @Argument(help: "Run directory (with a PostgreSQL --store: where pareto.json and candidates.csv go).")
        var directory: String?

        @Flag(help: "Print pareto.json instead of the table.")
        var json = false

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            do {
                let store = try RunStore.openReadOnly(at: try storeOptions.location(directory: directory, option: "<directory>"))
                let report = try RunReport(store: store)
                var files: [String] = []
                do { files = try report.writeFiles(store: store) } catch let e as AtomicFileError {
                    var stderr = StandardError()
                    print("note: skipped writing pareto.json and candidates.csv: \(e)", to: &stderr)
                }
                if json {
                    print(report.paretoJSON().prettyText())
                } else {
                    print(report.text())
                    if !files.isEmpty { print("wrote \(files.joined(separator: " and "))") }
                }
            } catch {
                throw fail(error)
            }
        }
    }

    struct UnlockRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unlock",
            abstract: "Break a stale run lock (holder on another host, heartbeat older than 60 s) or clear a leftover lock record.",
            discussion: """
                Every command that writes a run (search, search --resume, finish, explain, compare, demo) holds RUN/run.lock
                while it runs; its holder (host, pid, start, heartbeat every 5 s) is in RUN/run.lock.json. On the same host
                the lock disappears with its process (kill -9 included), so this is only needed for a holder on another
                host (shared file system) that died. A live holder is never broken: stop it instead.
                """)

        @Argument(help: "Run directory.")
        var directory: String

        func run() throws {
            do {
                let dir = URL(fileURLWithPath: directory)
                guard FileManager.default.fileExists(atPath: dir.appendingPathComponent(RunStore.fileName).path) else {
                    throw SearchError(directory, "holds no run (\(RunStore.fileName) missing)")
                }
                if let h = try RunLock.unlock(directory: dir) {
                    print("unlocked \(directory) (was: \(h.summary()))")
                } else {
                    print("\(directory) was not locked")
                }
            } catch {
                throw fail(error)
            }
        }
    }
}
