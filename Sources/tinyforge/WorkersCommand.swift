import ArgumentParser
import TinyForgeLaunch

/// `tinyforge workers …`: helpers for workers that the user starts (`--executor external`).
struct WorkersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "Describe search workers for schedulers TinyForge does not drive itself.",
        subcommands: [WorkersManifestCommand.self])
}

/// Prints the Kubernetes Job that runs N `tinyforge worker` pods against a PostgreSQL store.
struct WorkersManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Print a Kubernetes batch/v1 Job manifest for N workers (pipe it to `kubectl apply -f -`).",
        discussion: """
        The store URL and the database password come from a Secret (keys store-url and password), \
        created once with the command printed at the top of the manifest:
          kubectl create secret generic tinyforge-store --from-literal=store-url='postgres://USER@HOST:5432/DB?run=NAME' --from-literal=password="$PGPASSWORD"
        """)

    @Flag(help: "Kubernetes Job manifest (the only format so far; required so later formats stay explicit).")
    var kubernetes = false

    @Option(help: "The run store: postgres://USER@HOST:PORT/DB?run=NAME (no password).")
    var store: String

    @Option(name: .customLong("run"), help: "Run name passed to the workers (default: the URL's run=).")
    var runName: String?

    @Option(help: "Worker pods running at once (Job parallelism).")
    var workers: Int

    @Option(help: "Container image with the tinyforge binary on PATH.")
    var image = "tinyforge:latest"

    @Option(help: "CPU per worker, requested and limited (Kubernetes quantity: 2, 500m).")
    var cpu: String?

    @Option(help: "Memory per worker, requested and limited (Kubernetes quantity: 4Gi).")
    var memory: String?

    @Option(help: "Threads per worker (default: the whole CPUs of --cpu).")
    var threads: Int?

    @Option(help: "Secret holding store-url and password.")
    var secret = "tinyforge-store"

    func run() throws {
        guard kubernetes else {
            throw ValidationError("say which manifest: --kubernetes (the only format so far)")
        }
        let options = KubernetesWorkerOptions(storeURL: store, runName: runName, workers: workers, image: image, cpu: cpu,
                                              memory: memory, threads: threads, secretName: secret)
        do {
            print(try KubernetesManifest.render(options), terminator: "")
        } catch {
            throw fail(error)
        }
    }
}
