import Foundation

/// What `tinyforge workers manifest --kubernetes` needs to describe the worker Job. Checked by
/// `validate()`; the messages name the flag and the fix.
public struct KubernetesWorkerOptions: Sendable, Equatable {
    /// `postgres://USER@HOST:PORT/DB?run=NAME`: pods on different machines cannot share a SQLite
    /// run directory, and a password here would end up in the Secret command of the output.
    public var storeURL: String
    public var runName: String?
    public var workers: Int
    public var image: String
    /// Kubernetes CPU quantity (`2`, `1.5`, `500m`), requested and limited.
    public var cpu: String?
    /// Kubernetes memory quantity (`4Gi`, `512Mi`), requested and limited.
    public var memory: String?
    /// `--threads` of each worker; default: the whole CPUs of `cpu` (a container sees the node's
    /// cores, not its limit, so without it a worker would oversubscribe its share).
    public var threads: Int?
    public var secretName: String

    public init(storeURL: String, runName: String? = nil, workers: Int, image: String = "tinyforge:latest",
                cpu: String? = nil, memory: String? = nil, threads: Int? = nil, secretName: String = "tinyforge-store") {
        self.storeURL = storeURL
        self.runName = runName
        self.workers = workers
        self.image = image
        self.cpu = cpu
        self.memory = memory
        self.threads = threads
        self.secretName = secretName
    }

    public func validate() throws {
        func bad(_ option: String, _ value: String, _ fix: String) -> KubernetesManifestError {
            .invalidOption(option: option, value: value, fix: fix)
        }
        guard let url = URLComponents(string: storeURL), ["postgres", "postgresql"].contains(url.scheme ?? ""),
              let host = url.host, !host.isEmpty else {
            throw bad("--store", storeURL, "Kubernetes workers share a PostgreSQL store: postgres://USER@HOST:PORT/DB?run=NAME")
        }
        if url.password != nil {
            throw bad("--store", "postgres://…:***@…",
                      "remove the password from the URL; it goes into the Secret's 'password' key (PGPASSWORD)")
        }
        guard workers >= 1 else { throw bad("--workers", "\(workers)", "give at least 1") }
        if image.isEmpty || image.contains(where: { $0.isWhitespace }) {
            throw bad("--image", image, "give an image reference such as registry.example.com/tinyforge:1.0")
        }
        if let c = cpu, c.range(of: #"^([0-9]+(\.[0-9]+)?|[0-9]+m)$"#, options: .regularExpression) == nil || cpuValue == 0 {
            throw bad("--cpu", c, "give a positive Kubernetes CPU quantity: 2, 1.5 or 500m")
        }
        if let m = memory, m.range(of: #"^[0-9]+(\.[0-9]+)?(k|M|G|T|Ki|Mi|Gi|Ti)?$"#, options: .regularExpression) == nil {
            throw bad("--memory", m, "give a Kubernetes memory quantity: 4Gi, 512Mi or 2G")
        }
        if let t = threads, t < 1 { throw bad("--threads", "\(t)", "give at least 1") }
        if secretName.count > 253 || secretName.range(of: #"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"#, options: .regularExpression) == nil {
            throw bad("--secret", secretName, "Secret names are lower-case letters, digits, '-' and '.', e.g. tinyforge-store")
        }
        if let r = runName, r.isEmpty { throw bad("--run", r, "give the run's name or leave --run out") }
    }

    /// `cpu` in cores (nil when not given).
    var cpuValue: Double? {
        guard let c = cpu else { return nil }
        return c.hasSuffix("m") ? Double(c.dropLast()).map { $0 / 1000 } : Double(c)
    }

    /// `threads`, else the whole cores of `cpu` (at least 1), else nil (the worker's default).
    public var effectiveThreads: Int? {
        threads ?? cpuValue.map { max(1, Int($0.rounded(.down))) }
    }

    /// `--run`, else the URL's `run=` query item.
    public var effectiveRunName: String? {
        runName ?? URLComponents(string: storeURL)?.queryItems?.first { $0.name == "run" }?.value
    }
}

public enum KubernetesManifestError: Error, Equatable, CustomStringConvertible {
    case invalidOption(option: String, value: String, fix: String)

    public var description: String {
        switch self {
        case let .invalidOption(option, value, fix): return "\(option) '\(value)' is not valid: \(fix)"
        }
    }
}
