import ArgumentParser
import TinyForgeLaunch

/// The `--slurm-*` flags of `--executor slurm`: how the search's workers run as one Slurm job
/// array (see TinyForgeLaunch's SlurmLauncher). Checked by `SlurmJobOptions.validate`, whose
/// errors name these flags.
struct SlurmOptions: ParsableArguments {
    @Option(name: .customLong("slurm-array"), help: "Workers to start: array tasks 0..N-1 (default: search --workers, at most --batch).")
    var arraySize: Int?

    @Option(name: .customLong("slurm-max-concurrent"), help: "Run at most M tasks at once (sbatch --array=0-(N-1)%M; default: no limit).")
    var maxConcurrent: Int?

    @Option(name: .customLong("slurm-cpus-per-task"), help: "CPUs per worker (sbatch --cpus-per-task).")
    var cpusPerTask: Int = 1

    @Option(name: .customLong("slurm-gres"), help: "Generic resources per worker, e.g. gpu:1 (sbatch --gres).")
    var gres: String?

    @Option(name: .customLong("slurm-time"), help: "Time limit per worker, e.g. 2:00:00 or 1-00:00:00 (sbatch --time).")
    var time: String?

    @Option(name: .customLong("slurm-partition"), help: "Partition to submit to (sbatch --partition).")
    var partition: String?

    /// `.unconditionalSingleValue`: the value is an sbatch flag and starts with a dash itself.
    @Option(name: .customLong("slurm-arg"), parsing: .unconditionalSingleValue,
            help: "Extra sbatch argument, repeatable (e.g. --slurm-arg --account=proj --slurm-arg=--mem=4G).")
    var extraArguments: [String] = []

    /// The first `--slurm-*` flag given, for refusing them where no Slurm job is submitted.
    var givenFlag: String? {
        if arraySize != nil { return "--slurm-array" }
        if maxConcurrent != nil { return "--slurm-max-concurrent" }
        if cpusPerTask != 1 { return "--slurm-cpus-per-task" }
        if gres != nil { return "--slurm-gres" }
        if time != nil { return "--slurm-time" }
        if partition != nil { return "--slurm-partition" }
        return extraArguments.isEmpty ? nil : "--slurm-arg"
    }

    /// The validated job options. `defaultArraySize` is used when --slurm-array is not given;
    /// `environment` is what the workers need that the submitting shell may not export (e.g.
    /// PGPASSWORD read from --store-password-file).
    func jobOptions(defaultArraySize: Int? = nil, environment: [String: String] = [:]) throws -> SlurmJobOptions {
        guard let n = arraySize ?? defaultArraySize else {
            throw SlurmLaunchError.invalidOption(option: "--slurm-array", value: "(missing)",
                                                 fix: "give the number of workers to start, e.g. --slurm-array 8")
        }
        let options = SlurmJobOptions(arraySize: n, maxConcurrent: maxConcurrent, cpusPerTask: cpusPerTask, gres: gres,
                                      time: time, partition: partition, extraArguments: extraArguments,
                                      environment: environment)
        try options.validate()
        return options
    }
}
