import Foundation

/// How a controller tells the workers it starts where the run is: the `--store` arguments of
/// `tinyforge worker` and the environment they need. A password never goes on the command
/// line (visible in `ps`, the batch script, jobs.json): a password file is passed by its path
/// (`--store-password-file`), a password the controller holds goes into `PGPASSWORD` of the
/// workers' environment only.
public struct WorkerStoreArguments: Sendable, Equatable {
    public var arguments: [String]
    public var environment: [String: String]

    /// `passwordFile` is the controller's `--store-password-file`, if it used one.
    public init(location: StoreLocation, passwordFile: String?) {
        switch location {
        case .directory(let dir):
            arguments = ["--store", dir.standardizedFileURL.path]
            environment = [:]
        case .postgres(let url):
            // --output: the controller's local directory, where evaluations write their files
            // (same path on a shared filesystem; created on a host that lacks it).
            arguments = ["--store", url.description, "--output", url.localDirectory.standardizedFileURL.path]
            environment = [:]
            if let file = passwordFile {
                arguments += ["--store-password-file", URL(fileURLWithPath: file).standardizedFileURL.path]
            } else if let password = url.password {
                environment["PGPASSWORD"] = password
            }
        }
    }
}
