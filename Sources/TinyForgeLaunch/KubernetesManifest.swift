import Foundation

/// The Kubernetes `batch/v1` Job that runs N search workers against a PostgreSQL run store.
///
/// The shape is Kubernetes' "work queue" Job: `parallelism` N and no `completions`, because the
/// workers take candidates from the store's queue, not a fixed share each; a worker exits 0
/// when its run is finished or it stays idle, and the Job is complete when all pods have ended
/// and one succeeded. `restartPolicy: OnFailure` restarts a crashed worker in place (its lease
/// is reclaimed by the store, so the retry costs only the candidate it held); `backoffLimit`
/// allows two failures per worker before the Job gives up.
/// The store URL and the password come from one Secret (keys `store-url`, `password`) as
/// TINYFORGE_STORE and PGPASSWORD, so neither is in the manifest or in `kubectl get job -o yaml`.
public enum KubernetesManifest {
    public static let storeKey = "store-url"
    public static let passwordKey = "password"

    public static func render(_ options: KubernetesWorkerOptions) throws -> String {
        try options.validate()
        let name = jobName(run: options.effectiveRunName)
        var args = ["worker", "--store", "$(TINYFORGE_STORE)"]
        if let run = options.runName { args += ["--run", run] }
        if let t = options.effectiveThreads { args += ["--threads", "\(t)"] }
        var labels = ["app.kubernetes.io/name: \(q("tinyforge-worker"))"]
        if let run = options.effectiveRunName { labels.append("tinyforge.run: \(q(labelValue(run)))") }
        var lines = header(options) + [
            "apiVersion: batch/v1",
            "kind: Job",
            "metadata:",
            "  name: \(q(name))",
            "  labels:",
        ] + labels.map { "    " + $0 } + [
            "spec:",
            "  parallelism: \(options.workers)",
            "  backoffLimit: \(2 * options.workers)",
            "  template:",
            "    metadata:",
            "      labels:",
        ] + labels.map { "        " + $0 } + [
            "    spec:",
            "      restartPolicy: OnFailure",
            "      containers:",
            "        - name: worker",
            "          image: \(q(options.image))",
            "          command: [\(q("tinyforge"))]",
            "          args: [\(args.map(q).joined(separator: ", "))]",
            "          env:",
        ] + environment(secret: options.secretName)
        lines += resources(options)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The command that creates the Secret the Job reads (the password from $PGPASSWORD of the
    /// shell that runs it, so it is typed nowhere).
    public static func secretCommand(_ options: KubernetesWorkerOptions) -> String {
        ShellQuote.line(["kubectl", "create", "secret", "generic", options.secretName,
                         "--from-literal=\(storeKey)=\(options.storeURL)"]) + " --from-literal=\(passwordKey)=\"$PGPASSWORD\""
    }

    /// `tinyforge-workers[-RUN]` as a DNS-1123 label (lower case, digits, '-', ≤ 63 characters),
    /// the limit of Job names because Kubernetes copies the name into a pod label.
    public static func jobName(run: String?) -> String {
        guard let run else { return "tinyforge-workers" }
        let cleaned = String(run.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "-" })
        let suffix = cleaned.split(separator: "-").joined(separator: "-")
        guard !suffix.isEmpty else { return "tinyforge-workers" }
        let name = "tinyforge-workers-" + suffix.prefix(63 - 18)
        return String(name.reversed().drop { $0 == "-" }.reversed())
    }

    private static func header(_ o: KubernetesWorkerOptions) -> [String] {
        [
            "# TinyForge search workers: \(o.workers) pod(s) taking candidates from the run store's queue.",
            "# First create the Secret with the store URL and the database password (not in this file):",
            "#   " + secretCommand(o).replacingOccurrences(of: "\n", with: " "),
            "# Then apply: tinyforge workers manifest --kubernetes … | kubectl apply -f -",
            "# Follow: kubectl get pods -l app.kubernetes.io/name=tinyforge-worker; stop: kubectl delete job \(jobName(run: o.effectiveRunName))",
        ]
    }

    private static func environment(secret: String) -> [String] {
        func fromSecret(_ variable: String, _ key: String) -> [String] {
            ["            - name: \(variable)",
             "              valueFrom:",
             "                secretKeyRef: {name: \(q(secret)), key: \(q(key))}"]
        }
        return fromSecret("TINYFORGE_STORE", storeKey) + fromSecret("PGPASSWORD", passwordKey) + [
            "            - name: POD_NAME",
            "              valueFrom:",
            "                fieldRef: {fieldPath: metadata.name}",
            "            - name: TINYFORGE_WORKER_LABEL",
            "              value: \(q("kubernetes:$(POD_NAME)"))",
        ]
    }

    private static func resources(_ o: KubernetesWorkerOptions) -> [String] {
        var amounts: [String] = []
        if let c = o.cpu { amounts.append("cpu: \(q(c))") }
        if let m = o.memory { amounts.append("memory: \(q(m))") }
        guard !amounts.isEmpty else { return [] }
        let map = "{" + amounts.joined(separator: ", ") + "}"
        return ["          resources:", "            requests: \(map)", "            limits: \(map)"]
    }

    /// A label value: ≤ 63 of [A-Za-z0-9-_.], starting and ending alphanumeric.
    static func labelValue(_ s: String) -> String {
        let mapped = String(s.map { ($0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0))) ? $0 : "-" }.prefix(63))
        let trimmed = mapped.drop { !($0.isLetter || $0.isNumber) }
        return String(String(trimmed).reversed().drop { !($0.isLetter || $0.isNumber) }.reversed())
    }

    /// A YAML double-quoted scalar (JSON string syntax, which YAML 1.2 and kubectl accept).
    static func q(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || u.value == 0x7F: out += String(format: "\\u%04X", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
