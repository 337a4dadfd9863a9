import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeSpec

public enum ExportFormat: String, Sendable, CaseIterable {
    case tflite, c
}

/// What `tinyforge export` wrote and the numbers its manifest states.
public struct ExportSummary: Sendable {
    public var directory: URL
    public var files: [String]
    public var manifest: JSONValue
    /// Arena of the generated C runtime (fused schedule, in-place depthwise).
    public var arenaBytes: Int
    /// The cost model's prediction of stock TFLM's activation arena for the same plan.
    public var tflmArenaEstimateBytes: Int
    /// Bytes of int8 weights, int32 biases and requantisation constants (C) or of the .tflite.
    public var modelBytes: Int
}

/// Writes a quantised network as a deployable bundle: `model.tflite` or the C library, plus
/// `manifest.json` (machine-readable) and `README.md` (for a person) stating the input
/// preprocessing, the quantisation of input and output, arena and flash.
public enum ExportBundle {
    /// The labels file beside `model.tflite`.
    public static let labelsFileName = "labels.txt"

    /// `labels` (class names in output order) go into `manifest.json`, `labels.txt` beside a
    /// `.tflite` (one name per line, the file TFLite tooling such as the Task Library and the
    /// Edge TPU / model-zoo examples read) and `tf_model_labels[]` in the C library.
    public static func write(_ q: QuantizedNetwork, plan: LayerPlan, normalization: Normalization, format: ExportFormat,
                             to dir: URL, target: Target, source: String, testInput: [Int8]? = nil,
                             labels: [String]? = nil, patch: PatchDecision? = nil) throws -> ExportSummary {
        if let l = labels, let bad = l.first(where: { $0.contains(where: \.isNewline) || $0.isEmpty }) {
            throw DataError.invalidOption(option: "labels", reason: "class name \"\(bad)\" is empty or contains a line break; labels.txt holds one name per line")
        }
        if patch != nil, format != .c {
            throw PipelineError.patchNeedsC(format: format.rawValue)
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let gen = try CCodeGenerator(model: q.model, patch: patch?.plan.map { ($0, KernelSchedule(plan: plan)) })
        let cost = CostModel.evaluate(plan, target: target)
        var files = [String]()
        let modelBytes: Int
        switch format {
        case .tflite:
            let bytes = try TFLiteWriter.serialize(q.model, description: "TinyForge int8 export of \(plan.spec.name ?? "network") [\(plan.spec.shortHash)]")
            try AtomicFile.write(Data(bytes), to: dir.appendingPathComponent("model.tflite"))
            files.append("model.tflite")
            modelBytes = bytes.count
            if let l = labels {
                try AtomicFile.write(l.joined(separator: "\n") + "\n", to: dir.appendingPathComponent(labelsFileName))
                files.append(labelsFileName)
            }
        case .c:
            let lib = gen.generate(labels: labels)
            files += try lib.write(to: dir).map(\.lastPathComponent)
            modelBytes = lib.constantBytes
        }
        // A golden test vector: one int8 input and the output the Swift int8 engine (bit-exact
        // with TFLM) gives for it, so a port can check itself byte for byte.
        var testVector: JSONValue = .null
        if let x = testInput {
            let y = try Int8Interpreter(model: q.model).run(inputs: [x])[0]
            try AtomicFile.write(Data(x.map { UInt8(bitPattern: $0) }), to: dir.appendingPathComponent("test_input.bin"))
            try AtomicFile.write(Data(y.map { UInt8(bitPattern: $0) }), to: dir.appendingPathComponent("test_output.bin"))
            files += ["test_input.bin", "test_output.bin"]
            testVector = .object(["input": "test_input.bin", "output": "test_output.bin",
                                  "meaning": "first validation image, quantised; expected int8 output (Swift int8 engine, bit-exact with TFLM)"])
        }
        var manifest = self.manifest(q, plan: plan, normalization: normalization, format: format, files: files + ["manifest.json", "README.md"],
                                     arena: gen.memory, cost: cost, modelBytes: modelBytes, source: source)
        if case .object(var o) = manifest {
            o["test_vector"] = testVector
            o["labels"] = labels.map { .array($0.map { .string($0) }) } ?? .null
            if let d = patch { o = patchManifest(o, decision: d, generator: gen, plan: plan) }
            if labels != nil {
                o["labels_in"] = .string(format == .tflite ? labelsFileName : "tf_model_labels[] in model.c (TF_MODEL_LABEL_COUNT in model.h)")
            }
            manifest = .object(o)
        }
        try AtomicFile.write(manifest.prettyText() + "\n", to: dir.appendingPathComponent("manifest.json"))
        try AtomicFile.write(readme(q, plan: plan, normalization: normalization, format: format, arena: gen.arenaBytes, cost: cost,
                                    modelBytes: modelBytes, source: source) + (patch.map { patchReadme($0, plan: plan) } ?? ""),
                             to: dir.appendingPathComponent("README.md"))
        files += ["manifest.json", "README.md"]
        return ExportSummary(directory: dir, files: files, manifest: manifest, arenaBytes: gen.arenaBytes,
                             tflmArenaEstimateBytes: cost.tflmMemory.arenaBytes, modelBytes: modelBytes)
    }

    static func numbers<T: BinaryFloatingPoint>(_ v: [T]) -> JSONValue { .array(v.map { .number(Double($0)) }) }
    static func ints(_ v: [Int]) -> JSONValue { .array(v.map { .number(Double($0)) }) }

    static func manifest(_ q: QuantizedNetwork, plan: LayerPlan, normalization: Normalization, format: ExportFormat,
                         files: [String], arena: DeployMemoryPlan, cost: CostReport, modelBytes: Int, source: String) -> JSONValue {
        let m = q.model
        let inT = m.tensors[m.inputs[0]], outT = m.tensors[m.outputs[0]]
        var opCounts = [String: JSONValue]()
        for op in m.ops { opCounts[op.kind] = .number((opCounts[op.kind].flatMap { if case .number(let d) = $0 { return d }; return nil } ?? 0) + 1) }
        let softmax = q.graph.nodes.last.map { if case .softmax = $0.op { return true }; return false } ?? false
        let input: JSONValue = .object([
            "name": .string(inT.name), "shape": ints(inT.shape), "dtype": "int8",
            "scale": .number(Double(q.inputQuant.scale)), "zero_point": .number(Double(q.inputQuant.zeroPoint)),
            "preprocess": .object([
                "steps": .array(["pixels to [0, 1] (uint8 / 255)", .string("bilinear resize to \(inT.shape[1])×\(inT.shape[2]), \(inT.shape[3]) channel(s)"),
                                 "x = (x - mean[c]) / std[c]", "q = clamp(round(x / scale) + zero_point, -128, 127)"]),
                "mean": numbers(normalization.mean), "std": numbers(normalization.std),
            ]),
        ])
        let output: JSONValue = .object([
            "name": .string(outT.name), "shape": ints(outT.shape), "dtype": "int8",
            "scale": .number(Double(q.outputQuant.scale)), "zero_point": .number(Double(q.outputQuant.zeroPoint)),
            "meaning": .string(softmax ? "class probabilities (softmax)" : "class logits"), "classes": .number(Double(plan.spec.numClasses)),
            "dequantize": "real = scale * (q - zero_point)",
        ])
        return .object([
            "format": "tinyforge-export-v1", "artifact": .string(format.rawValue), "files": .array(files.map { .string($0) }),
            "model": .string(plan.spec.name ?? "network"), "hash": .string(plan.spec.canonicalHash), "source": .string(source),
            "input": input, "output": output,
            "ops": .number(Double(m.ops.count)), "op_counts": .object(opCounts),
            "macs": .number(Double(q.graph.macs)), "plan_macs": .number(Double(plan.macs)),
            "calibration": .object(["method": .string(q.calibrationMethod?.description ?? "given ranges"),
                                    "images": .number(Double(q.calibrationImages)), "split": "train"]),
            "memory": .object([
                "arena_bytes": .number(Double(arena.arenaBytes)), "arena_lower_bound_bytes": .number(Double(arena.lowerBound)),
                "arena_runtime": "tinyforge C library (fused activations, in-place depthwise); TFLM needs more, see tflm_arena_estimate_bytes",
                "cost_model_peak_sram_bytes": .number(Double(cost.peakSRAMBytes)),
                "tflm_arena_estimate_bytes": .number(Double(cost.tflmMemory.arenaBytes)),
            ]),
            "flash": .object([
                "model_bytes": .number(Double(modelBytes)),
                "model_bytes_meaning": .string(format == .tflite ? "size of model.tflite" : "weights.c constants: int8 weights, int32 biases, multipliers, shifts"),
                "cost_model_flash_bytes": .number(Double(cost.flash.total)), "target": .string(cost.target.name),
            ]),
        ])
    }

    static func readme(_ q: QuantizedNetwork, plan: LayerPlan, normalization: Normalization, format: ExportFormat, arena: Int,
                       cost: CostReport, modelBytes: Int, source: String) -> String {
        let m = q.model, inT = m.tensors[m.inputs[0]], outT = m.tensors[m.outputs[0]]
        let usage = format == .c ? """
            ## Use

            Compile `model.c weights.c kernels.c` (C99, no float, no malloc) with your firmware and call

            ```c
            #include "model.h"
            int8_t input[\(inT.elementCount)], output[\(outT.elementCount)];
            /* fill input as below */
            int status = tf_model_invoke(input, output);   /* 0 on success */
            ```

            The library owns one static arena of \(arena) bytes (`TF_MODEL_ARENA_BYTES`).
            """ : """
            ## Use

            Load `model.tflite` with TensorFlow Lite Micro (ops: \(Set(m.ops.map(\.kind)).sorted().joined(separator: ", "))) or LiteRT.
            TFLM's arena for it is larger than the TinyForge C runtime's \(arena) bytes (the cost model predicts
            \(cost.tflmMemory.arenaBytes) bytes of activations for stock TFLM, plus TFLM's persistent allocations).
            """
        return """
        # \(plan.spec.name ?? "network") — int8 export (\(format.rawValue))

        From `\(source)`, architecture hash `\(plan.spec.shortHash)`. \(m.ops.count) int8 ops, \(q.graph.macs) MACs per image.
        Weights per-channel symmetric int8, biases int32, activations per-tensor asymmetric int8 calibrated on
        \(q.calibrationImages) training images (\(q.calibrationMethod?.description ?? "given ranges")).

        ## Input: int8 \(inT.shape), scale \(q.inputQuant.scale), zero point \(q.inputQuant.zeroPoint)

        1. pixels to [0, 1] (uint8 / 255), resized to \(inT.shape[1])×\(inT.shape[2]) with \(inT.shape[3]) channel(s), NHWC;
        2. normalise per channel: `x = (x - mean[c]) / std[c]` with mean \(normalization.mean), std \(normalization.std);
        3. quantise: `q = clamp(round(x / \(q.inputQuant.scale)) + \(q.inputQuant.zeroPoint), -128, 127)`.

        ## Output: int8 \(outT.shape), scale \(q.outputQuant.scale), zero point \(q.outputQuant.zeroPoint)

        `real = scale * (q - zero_point)`; the predicted class is the index of the largest value.

        ## Memory (target \(cost.target.name))

        | | bytes |
        |---|---|
        | activation arena (TinyForge C runtime) | \(arena) |
        | cost model peak SRAM | \(cost.peakSRAMBytes) |
        | cost model, stock TFLM activations | \(cost.tflmMemory.arenaBytes) |
        | \(format == .tflite ? "model.tflite" : "constants in weights.c") | \(modelBytes) |
        | cost model flash (weights + biases + quant params) | \(cost.flash.total) |

        \(usage)

        `manifest.json` holds the same facts for tools.

        """
    }
}
