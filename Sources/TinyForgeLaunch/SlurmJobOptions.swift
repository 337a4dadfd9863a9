import Foundation

/// How to run the workers as one Slurm job array: `sbatch --array=0-(N-1)%M` with one worker per
/// array task. Checked by `validate()` before anything is written or submitted, so a typo is a
/// message naming the flag, not a job that Slurm rejects half-way through a search.
public struct SlurmJobOptions: Sendable, Equatable {
    /// N: array tasks (workers) in the job.
    public var arraySize: Int
    /// M: at most this many tasks run at once (`%M`); nil = as many as Slurm schedules.
    public var maxConcurrent: Int?
    public var cpusPerTask: Int
    /// `--gres`, e.g. `gpu:1` or `gpu:a100:2`.
    public var gres: String?
    /// `--time`, Slurm's formats: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.
    public var time: String?
    public var partition: String?
    /// Further sbatch arguments (`--account=x`, `--mem=4G`, `--qos`, `normal`…), passed as given.
    public var extraArguments: [String]
    /// Variables the workers need (e.g. PGPASSWORD). They reach the tasks through sbatch's
    /// process environment (`--export=ALL`), never through the script file, so a password is
    /// not written into the run directory.
    public var environment: [String: String]
    public var jobName: String

    public init(arraySize: Int, maxConcurrent: Int? = nil, cpusPerTask: Int = 1, gres: String? = nil,
                time: String? = nil, partition: String? = nil, extraArguments: [String] = [],
                environment: [String: String] = [:], jobName: String = "tinyforge-worker") {
        self.arraySize = arraySize
        self.maxConcurrent = maxConcurrent
        self.cpusPerTask = cpusPerTask
        self.gres = gres
        self.time = time
        self.partition = partition
        self.extraArguments = extraArguments
        self.environment = environment
        self.jobName = jobName
    }

    /// sbatch flags the launcher sets itself; giving them again through `--slurm-arg` would
    /// silently override the launcher (last one wins), so they are refused with the flag to use.
    static let reservedFlags: [String: String] = [
        "--array": "--slurm-array / --slurm-max-concurrent", "-a": "--slurm-array / --slurm-max-concurrent",
        "--output": "(the launcher logs to RUN/slurm/%A_%a.out)", "-o": "(the launcher logs to RUN/slurm/%A_%a.out)",
        "--error": "(the launcher logs to RUN/slurm/%A_%a.out)", "-e": "(the launcher logs to RUN/slurm/%A_%a.out)",
        "--cpus-per-task": "--slurm-cpus-per-task", "-c": "--slurm-cpus-per-task",
        "--partition": "--slurm-partition", "-p": "--slurm-partition",
        "--time": "--slurm-time", "-t": "--slurm-time", "--gres": "--slurm-gres",
        "--export": "(the workers need the submitting environment: --export=ALL)",
        "--parsable": "(set by the launcher)", "--wrap": "(the launcher writes the batch script)",
    ]

    public func validate() throws {
        func bad(_ option: String, _ value: String, _ fix: String) -> SlurmLaunchError {
            .invalidOption(option: option, value: value, fix: fix)
        }
        guard arraySize >= 1 else { throw bad("--slurm-array", "\(arraySize)", "give the number of workers, at least 1") }
        if let m = maxConcurrent, m < 1 {
            throw bad("--slurm-max-concurrent", "\(m)", "give at least 1, or leave it out to let Slurm run every task it can")
        }
        guard cpusPerTask >= 1 else { throw bad("--slurm-cpus-per-task", "\(cpusPerTask)", "give at least 1") }
        if let g = gres, !Self.isGres(g) {
            throw bad("--slurm-gres", g, "write NAME[:TYPE][:COUNT], comma-separated, e.g. gpu:1 or gpu:a100:2")
        }
        if let t = time, !Self.isTime(t) {
            throw bad("--slurm-time", t, "use MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED, e.g. 2:00:00")
        }
        if let p = partition, p.isEmpty || p.contains(where: { $0.isWhitespace }) {
            throw bad("--slurm-partition", p, "give a partition name (or a comma-separated list) without spaces")
        }
        if jobName.isEmpty || jobName.contains(where: { $0.isNewline }) {
            throw bad("job name", jobName, "give a non-empty single-line name")
        }
        try validateExtraArguments()
        for name in environment.keys.sorted() {
            guard Self.isVariableName(name) else {
                throw bad("environment", name, "variable names are letters, digits and _, not starting with a digit")
            }
            guard name != "TINYFORGE_WORKER_LABEL" else {
                throw bad("environment", name, "the batch script sets it (slurm:JOB_TASK); remove it")
            }
        }
    }

    private func validateExtraArguments() throws {
        if let first = extraArguments.first, !first.hasPrefix("-") {
            throw SlurmLaunchError.invalidOption(option: "--slurm-arg", value: first,
                                                 fix: "the first extra argument must be an sbatch flag, e.g. --account=proj")
        }
        for arg in extraArguments where arg.hasPrefix("-") {
            let flag = String(arg.split(separator: "=", maxSplits: 1).first ?? "")
            let short = flag.count > 2 && !flag.hasPrefix("--") ? String(flag.prefix(2)) : flag
            if let instead = Self.reservedFlags[flag] ?? Self.reservedFlags[short] {
                throw SlurmLaunchError.invalidOption(option: "--slurm-arg", value: arg,
                                                     fix: "the launcher sets \(flag) itself; use \(instead)")
            }
        }
    }

    static func isVariableName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || (f.isASCII && CharacterSet.letters.contains(f)) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
    }

    static func isGres(_ s: String) -> Bool {
        s.range(of: #"^[A-Za-z0-9_]+(:[A-Za-z0-9_.\-]+)*(,[A-Za-z0-9_]+(:[A-Za-z0-9_.\-]+)*)*$"#, options: .regularExpression) != nil
    }

    static func isTime(_ s: String) -> Bool {
        if ["UNLIMITED", "INFINITE"].contains(s.uppercased()) { return true }
        let patterns = [#"^[0-9]+(:[0-9]{1,2}){0,2}$"#, #"^[0-9]+-[0-9]{1,2}(:[0-9]{1,2}){0,2}$"#]
        return patterns.contains { s.range(of: $0, options: .regularExpression) != nil }
    }
}
