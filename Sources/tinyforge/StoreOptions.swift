import ArgumentParser
import Foundation
import TinyForgeSearch

/// `--store URL` and `--store-password-file FILE`, shared by search, runs show, finish, explain
/// and compare. Without `--store` a run lives in its run directory (`run.sqlite`), as always.
///
/// With a PostgreSQL store the files a command writes next to the run (pareto.json,
/// candidates.csv, finished models, explain's report) go to a LOCAL output directory: the run
/// directory argument when one is given, else `tinyforge-runs/NAME` under the current directory.
/// The database holds everything else; the output directory can be recreated from it
/// (`runs show` rewrites pareto.json and candidates.csv) except finished models.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run store: postgres://USER@HOST:PORT/DB?run=NAME keeps the run in PostgreSQL (many named runs per database; files go to the run directory argument, default tinyforge-runs/NAME). Default: the run directory's run.sqlite. Never put the password in the URL: use PGPASSWORD or --store-password-file.", valueName: "url"))
    var store: String?

    @Option(help: ArgumentHelp("File whose first line is the PostgreSQL password (else PGPASSWORD; never stored or printed).", valueName: "file"))
    var storePasswordFile: String?

    /// The run's location: `--store` when given (`directory`, if any, is then its local output
    /// directory), else the run directory `directory`.
    func location(directory: String?, option: String) throws -> StoreLocation {
        guard let store else {
            if storePasswordFile != nil { throw SearchError("--store-password-file", "needs a PostgreSQL --store URL") }
            guard let directory, !directory.isEmpty else {
                throw SearchError(option, "is required: the run directory (or a PostgreSQL run with --store postgres://USER@HOST:PORT/DB?run=NAME)")
            }
            return .directory(URL(fileURLWithPath: directory))
        }
        guard store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") else {
            throw SearchError("--store", "\(store) is not a postgres:// URL; for a run directory pass the directory itself (without --store)")
        }
        return try StoreLocation.parse(store, password: try StorePassword.resolve(file: storePasswordFile), localDirectory: directory)
    }
}
