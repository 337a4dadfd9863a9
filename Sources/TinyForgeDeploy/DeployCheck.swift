import Foundation
import TinyForgeHardware

/// Output comparison of one sample: the C library's bytes against `Int8Interpreter`'s.
public struct SampleComparison: Sendable, Equatable {
    public var index: Int
    public var expected: [Int8]
    public var actual: [Int8]
    /// Number of differing bytes (a length difference counts every missing byte).
    public var mismatches: Int
    public var maxAbsDiff: Int

    init(index: Int, expected: [Int8], actual: [Int8]) {
        self.index = index; self.expected = expected; self.actual = actual
        let d = zip(expected, actual).map { abs(Int($0) - Int($1)) }
        mismatches = d.filter { $0 != 0 }.count + abs(expected.count - actual.count)
        maxAbsDiff = d.max() ?? 0
    }

    public var matches: Bool { mismatches == 0 }
}

/// The generated library compiled for the host and run on the samples.
public struct HostCheckReport: Sendable {
    public var outputsMatch: Bool { samples.allSatisfy(\.matches) }
    public var samples: [SampleComparison]
    public var arenaBytes: Int
    public var compileSeconds: Double
    public var directory: URL
}

/// The generated library built for a Cortex-M7, run under QEMU `mps2-an500`, compared with
/// the Swift interpreter; plus the image's memory as the linker laid it out.
public struct DeployCheckReport: Sendable {
    public var outputsMatch: Bool { samples.allSatisfy(\.matches) }
    public var samples: [SampleComparison]
    /// Section → bytes, from `arm-none-eabi-size -A`.
    public var sections: [String: Int]
    /// Vectors + .text + .rodata + .ARM.exidx + the .data load image.
    public var flashBytes: Int
    /// .data + .bss + the reserved stack.
    public var ramBytes: Int
    /// The embedded sample inputs (in .rodata, not part of the library).
    public var sampleBytes: Int
    public var stackReservedBytes: Int
    /// Stack high-water mark measured on the device (painted stack).
    public var stackUsedBytes: Int
    /// `TF_MODEL_ARENA_BYTES` from the memory plan, and the size of the `arena` symbol in the ELF.
    public var arenaPlannedBytes: Int
    public var arenaLinkedBytes: Int
    /// Weights, biases and requantisation constants emitted in weights.c.
    public var constantBytes: Int
    public var qemuSeconds: Double
    public var elf: URL

    public var summary: String {
        let bad = samples.filter { !$0.matches }
        return """
        QEMU mps2-an500 (Cortex-M7): \(samples.count) samples, outputs match: \(outputsMatch)\
        \(bad.isEmpty ? "" : " (\(bad.map { "#\($0.index): \($0.mismatches) bytes differ, max |Δ| \($0.maxAbsDiff)" }.joined(separator: "; ")))")
        flash \(flashBytes) B (text \(sections[".text"] ?? 0), rodata \(sections[".rodata"] ?? 0) incl. \(sampleBytes) B of samples, data \(sections[".data"] ?? 0)), constants \(constantBytes) B
        RAM \(ramBytes) B (data \(sections[".data"] ?? 0), bss \(sections[".bss"] ?? 0), stack reserved \(stackReservedBytes), used \(stackUsedBytes))
        arena planned \(arenaPlannedBytes) B, linked \(arenaLinkedBytes) B; qemu \(String(format: "%.2f", qemuSeconds)) s
        """
    }
}

public enum DeployCheck {
    /// The flags of the Cortex-M7 build (STM32H7-class core, double-precision FPU).
    public static let armFlags = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-O2", "-std=c99",
                                  "-Wall", "-Werror", "-ffunction-sections", "-fdata-sections"]

    static func expectedOutputs(_ model: QuantizedModel, _ inputs: [[Int8]]) throws -> [[Int8]] {
        guard !inputs.isEmpty else { throw DeployError.inputMismatch(reason: "give at least one sample input") }
        let interpreter = try Int8Interpreter(model: model)
        return try inputs.map { try interpreter.run(inputs: [$0]).flatMap { $0 } }
    }

    /// Generates the library into `workDir`, compiles it with the host C compiler
    /// (`cc -std=c99 -Wall -Werror -O2`) and a harness, runs every sample and compares.
    /// `patch`: the library runs this patch plan (of the network the model was lowered from).
    /// - Throws: `DeployToolError.toolMissing` when there is no `cc`, `DeployError` for a
    ///   model the generator cannot emit.
    public static func runHost(model: QuantizedModel, inputs: [[Int8]], workDir: URL,
                               compiler: String = "cc", searchPath: String? = nil,
                               patch: (plan: PatchPlan, schedule: KernelSchedule)? = nil) throws -> HostCheckReport {
        let cc = try ToolRunner.require(compiler, apt: "gcc", searchPath: searchPath)
        let expected = try expectedOutputs(model, inputs)
        let lib = try CCodeGenerator(model: model, patch: patch).generate()
        try lib.write(to: workDir)
        try Data(BareMetalSupport.hostHarness.utf8).write(to: workDir.appendingPathComponent("host_main.c"))
        let build = try ToolRunner.run(cc, ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-o", "model_host", "host_main.c"]
                                       + GeneratedCLibrary.sources, in: workDir)
        let inURL = workDir.appendingPathComponent("input.bin"), outURL = workDir.appendingPathComponent("output.bin")
        try Data(inputs.flatMap { $0 }.map { UInt8(bitPattern: $0) }).write(to: inURL)
        try ToolRunner.run(workDir.appendingPathComponent("model_host").path, [inURL.path, outURL.path], in: workDir)
        let raw = try Data(contentsOf: outURL).map { Int8(bitPattern: $0) }
        let samples = expected.indices.map { k in
            SampleComparison(index: k, expected: expected[k],
                             actual: Array(raw.dropFirst(k * lib.outputSize).prefix(lib.outputSize)))
        }
        return HostCheckReport(samples: samples, arenaBytes: lib.arenaBytes, compileSeconds: build.seconds, directory: workDir)
    }

    /// Builds a bare-metal Cortex-M7 image (library + startup + semihosting harness with the
    /// samples embedded), runs it under `qemu-system-arm -M mps2-an500`, compares the printed
    /// outputs byte for byte with `Int8Interpreter`, and reads the memory from the ELF.
    /// `searchPath` (colon-separated) replaces PATH for finding the tools; `timeout` bounds QEMU.
    /// `patch`: the library runs this patch plan; `arenaPlannedBytes` is then the plan's arena.
    /// - Throws: `DeployToolError.toolMissing` naming the missing tool and its apt package,
    ///   before anything is written; `DeployError` for a model the generator cannot emit.
    public static func run(model: QuantizedModel, inputs: [[Int8]], workDir: URL,
                           timeout: Double = 120, searchPath: String? = nil,
                           patch: (plan: PatchPlan, schedule: KernelSchedule)? = nil) throws -> DeployCheckReport {
        let gcc = try ToolRunner.require("arm-none-eabi-gcc", apt: "gcc-arm-none-eabi libnewlib-arm-none-eabi", searchPath: searchPath)
        let size = try ToolRunner.require("arm-none-eabi-size", apt: "binutils-arm-none-eabi", searchPath: searchPath)
        let nm = try ToolRunner.require("arm-none-eabi-nm", apt: "binutils-arm-none-eabi", searchPath: searchPath)
        let qemu = try ToolRunner.require("qemu-system-arm", apt: "qemu-system-arm", searchPath: searchPath)
        let expected = try expectedOutputs(model, inputs)
        let lib = try CCodeGenerator(model: model, patch: patch).generate()
        try lib.write(to: workDir)
        let (sh, sc) = BareMetalSupport.samples(inputs)
        let support = ["mps2_an500.ld": BareMetalSupport.linkerScript, "startup.c": BareMetalSupport.startup,
                       "mcu_main.c": BareMetalSupport.harness, "samples.h": sh, "samples.c": sc]
        for (name, text) in support { try Data(text.utf8).write(to: workDir.appendingPathComponent(name)) }

        try ToolRunner.run(gcc, armFlags + ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
                                            "-Wl,--gc-sections", "-Wl,-Map=image.map", "-T", "mps2_an500.ld", "-o", "image.elf",
                                            "startup.c", "mcu_main.c", "samples.c"] + GeneratedCLibrary.sources, in: workDir)
        let sizeOut = try ToolRunner.run(size, ["-A", "-d", "image.elf"], in: workDir).stdout
        var sections = [String: Int]()
        for line in sizeOut.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count >= 2, f[0].hasPrefix("."), let n = Int(f[1]) { sections[String(f[0])] = n }
        }
        let symbols = try ToolRunner.run(nm, ["-S", "image.elf"], in: workDir).stdout
        func symbolSize(_ name: String) -> Int {
            for line in symbols.split(separator: "\n") {
                let f = line.split(separator: " ")
                if f.count == 4, f[3] == name, let n = Int(f[1], radix: 16) { return n }
            }
            return 0
        }
        let run = try ToolRunner.run(qemu, ["-M", "mps2-an500", "-nographic", "-monitor", "none", "-serial", "none",
                                            "-semihosting-config", "enable=on,target=native", "-kernel", "image.elf"],
                                     in: workDir, timeout: timeout, allowFailure: true)
        // With -serial none -monitor none, QEMU writes the semihosting console to stderr.
        let (actual, stackUsed) = try parseQEMU(run.stdout + "\n" + run.stderr, samples: inputs.count)
        guard run.status == 0 else {
            throw DeployToolError.toolFailed(command: "qemu-system-arm -M mps2-an500 ... image.elf", status: run.status, output: run.stdout + run.stderr)
        }
        let samples = expected.indices.map { SampleComparison(index: $0, expected: expected[$0], actual: actual[$0]) }
        let flash = [".isr_vector", ".text", ".rodata", ".ARM.exidx", ".data"].reduce(0) { $0 + (sections[$1] ?? 0) }
        let ram = [".data", ".bss", ".stack"].reduce(0) { $0 + (sections[$1] ?? 0) }
        return DeployCheckReport(
            samples: samples, sections: sections, flashBytes: flash, ramBytes: ram,
            sampleBytes: symbolSize("tf_samples"), stackReservedBytes: sections[".stack"] ?? 0, stackUsedBytes: stackUsed,
            arenaPlannedBytes: lib.arenaBytes, arenaLinkedBytes: symbolSize("arena"),
            constantBytes: lib.constantBytes, qemuSeconds: run.seconds, elf: workDir.appendingPathComponent("image.elf"))
    }

    /// Reads `TFOUT <k> <hex>` lines and `TFSTACK <n>`; requires `TFDONE`.
    static func parseQEMU(_ text: String, samples: Int) throws -> ([[Int8]], Int) {
        var outputs = [[Int8]](repeating: [], count: samples)
        var stack = 0, done = false
        for line in text.split(whereSeparator: \.isNewline) {
            let f = line.split(separator: " ")
            if f.first == "TFOUT", f.count >= 2, let k = Int(f[1]), k >= 0, k < samples {
                let hex = f.count > 2 ? Array(f[2].utf8) : []
                guard hex.count % 2 == 0 else { throw DeployToolError.malformedOutput(reason: "odd hex length for sample \(k)") }
                var bytes = [Int8]()
                for i in stride(from: 0, to: hex.count, by: 2) {
                    guard let b = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else {
                        throw DeployToolError.malformedOutput(reason: "bad hex in sample \(k)")
                    }
                    bytes.append(Int8(bitPattern: b))
                }
                outputs[k] = bytes
            } else if f.first == "TFSTACK", f.count == 2, let n = Int(f[1]) {
                stack = n
            } else if f.first == "TFDONE" {
                done = true
            }
        }
        guard done else {
            throw DeployToolError.malformedOutput(reason: "the image did not finish (no TFDONE); output:\n\(text.suffix(2000))")
        }
        return (outputs, stack)
    }
}
