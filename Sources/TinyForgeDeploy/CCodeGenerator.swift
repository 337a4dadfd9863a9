import Foundation
import TinyForgeHardware
import TinyForgeSpec

/// A generated C99 library: file name → contents, plus the memory plan it implements.
public struct GeneratedCLibrary: Sendable {
    /// model.h, model.c, weights.h, weights.c, kernels.h, kernels.c.
    public var files: [String: String]
    /// The per-layer memory plan of the fused steps (what an unpatched library links).
    public var memory: DeployMemoryPlan
    /// The patch plan the library executes, nil when it runs layer by layer.
    public var patch: CPatchLayout?
    /// Bytes of the linked arena: the patch plan's arena when patched, else the per-layer one.
    public var arenaBytes: Int { patch?.arenaBytes ?? memory.arenaBytes }
    public var inputSize: Int
    public var outputSize: Int
    /// Bytes of constant data emitted in weights.c: int8 weights, int32 biases, int32
    /// per-channel multipliers and shifts (what the flash holds besides code).
    public var constantBytes: Int

    /// The library's translation units (what a build compiles).
    public static let sources = ["model.c", "weights.c", "kernels.c"]

    /// Writes every file into `directory` (created if needed); returns their URLs.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try files.keys.sorted().map { name in
            let url = directory.appendingPathComponent(name)
            try AtomicFile.write(files[name]!, to: url)
            return url
        }
    }
}

/// `QuantizedModel` → a self-contained C99 library for Cortex-M (or any C99 target):
/// `int tf_model_invoke(const int8_t *input, int8_t *output)` runs the fused schedule of
/// `DeploySchedule` over one static 16-byte-aligned arena laid out by `DeployMemoryPlan`.
///
/// Every fixed-point parameter is taken from `Int8Interpreter.prepared` (TFLM's Prepare), so
/// the C computes what the Swift interpreter computes, byte for byte; the C path has no float
/// and no dynamic memory. Layouts are CMSIS-NN's: NHWC activations, OHWI conv filters,
/// (1,KH,KW,C) depthwise filters, (O,I) fully-connected weights.
public struct CCodeGenerator {
    public let interpreter: Int8Interpreter
    public let memory: DeployMemoryPlan
    /// Set when the library runs a patch plan (`init(model:alignment:patch:)`).
    public let patch: CPatchLayout?
    public var model: QuantizedModel { interpreter.model }
    /// Bytes of the arena the generated code links.
    public var arenaBytes: Int { patch?.arenaBytes ?? memory.arenaBytes }
    var arenaLowerBound: Int { patch?.lowerBound ?? memory.lowerBound }

    /// Validates the model (as `Int8Interpreter` does), fuses, schedules and plans it.
    /// `patch`: run this patch plan of the network the model was lowered from (its
    /// `KernelSchedule`), in the plan's arena (`CPatchLayout`); nil runs layer by layer.
    /// - Throws: `DeployError` naming the op/tensor the C runtime cannot execute, or
    ///   `DeployError.patchStage` when the model cannot run the patch plan.
    public init(model: QuantizedModel, alignment: Int = 16, patch: (plan: PatchPlan, schedule: KernelSchedule)? = nil) throws {
        let interpreter = try Int8Interpreter(model: model)
        let steps = try DeploySchedule.make(interpreter)
        for s in steps {
            for id in s.inputs + [s.output] where model.tensors[id].shape.count > 4 {
                throw DeployError.unsupported(op: s.ops[0], kind: model.ops[s.ops[0]].kind,
                                              reason: "tensor '\(model.tensors[id].name)' has rank \(model.tensors[id].shape.count); the C kernels take NHWC tensors of rank ≤ 4")
            }
        }
        self.interpreter = interpreter
        self.memory = try DeployMemoryPlan(model: model, steps: steps, alignment: alignment)
        self.patch = try patch.map { try CPatchLayout(interpreter: interpreter, steps: steps, plan: $0.plan, schedule: $0.schedule) }
    }

    /// `labels` (class names in output order) become `tf_model_labels[TF_MODEL_LABEL_COUNT]`.
    public func generate(labels: [String]? = nil) -> GeneratedCLibrary {
        var w = WeightsEmitter(model: model)
        var body = [String]()
        var decls = [String]()
        for (i, step) in memory.steps.enumerated() {
            let (d, call) = emit(step: step, index: i, weights: &w)
            decls.append(contentsOf: d)
            if let p = patch, let k = p.stageSteps.firstIndex(where: { $0.contains(i) }) {
                // The stage's steps run in its tile loop, emitted at its last step (in order).
                if i == p.stageSteps[k].upperBound - 1 { body += patchLoop(p, stage: k, decls: &decls, weights: &w) }
                continue
            }
            body.append("    /* step \(i): \(CSource.comment(step.label(model))), ops \(step.ops.map { "#\($0)" }.joined(separator: " ")) -> '\(CSource.comment(model.tensors[step.output].name))' \(model.tensors[step.output].shape) */")
            body.append("    " + call)
        }
        let input = model.inputs[0], output = model.outputs[0]
        let inSize = model.tensors[input].elementCount, outSize = model.tensors[output].elementCount
        var files = [String: String]()
        files["kernels.h"] = CKernels.header
        files["kernels.c"] = CKernels.source
        files["weights.h"] = w.header()
        files["weights.c"] = w.source()
        files["model.h"] = modelHeader(inSize: inSize, outSize: outSize, constantBytes: w.bytes, labels: labels)
        let labelTable = labels.map { names in
            "const char *const tf_model_labels[TF_MODEL_LABEL_COUNT] = {\n"
                + names.map { "    \"\(CSource.utf8Literal($0))\"," }.joined(separator: "\n") + "\n};\n"
        } ?? ""
        files["model.c"] = """
        /* model.c: op schedule of '\(CSource.comment(model.name))' (generated by TinyForge; do not edit).
         * \(memory.steps.count) kernels over one static arena of \(arenaBytes) bytes
         * (lower bound \(arenaLowerBound) B). Offsets come from the \(patch == nil ? "memory plan" : "patch plan"). */
        #include <string.h>
        #include "model.h"
        #include "kernels.h"
        #include "weights.h"

        static int8_t arena[TF_MODEL_ARENA_BYTES] __attribute__((aligned(16)));
        \(labelTable)
        \(decls.joined(separator: "\n"))

        int tf_model_invoke(const int8_t *input, int8_t *output) {
            if (input == 0 || output == 0) return -1;
            memcpy(arena + \(offset(input)), input, TF_MODEL_INPUT_SIZE);
        \(body.joined(separator: "\n"))
            memcpy(output, arena + \(offset(output)), TF_MODEL_OUTPUT_SIZE);
            return 0;
        }

        """
        return GeneratedCLibrary(files: files, memory: memory, patch: patch, inputSize: inSize, outputSize: outSize, constantBytes: w.bytes)
    }

    private func modelHeader(inSize: Int, outSize: Int, constantBytes: Int, labels: [String]?) -> String {
        let i = model.tensors[model.inputs[0]], o = model.tensors[model.outputs[0]]
        let labelDecl = labels.map { names in
            """

            /* Class names in output order (UTF-8): tf_model_labels[argmax of the output]. */
            #define TF_MODEL_LABEL_COUNT \(names.count)
            extern const char *const tf_model_labels[TF_MODEL_LABEL_COUNT];
            """
        } ?? ""
        return """
        /* model.h: API of the TinyForge C library for '\(CSource.comment(model.name))' (generated; do not edit).
         * Call tf_model_invoke with TF_MODEL_INPUT_SIZE int8 values (NHWC) and a buffer of
         * TF_MODEL_OUTPUT_SIZE; returns 0 on success. Not reentrant: one static arena.
         * real = scale * (q - zero_point); the float macros are for pre/post-processing only. */
        #ifndef TF_MODEL_H
        #define TF_MODEL_H

        #include <stdint.h>

        #define TF_MODEL_NAME "\(CSource.stringLiteral(model.name))"
        #define TF_MODEL_INPUT_SIZE \(inSize) /* \(i.shape) */
        #define TF_MODEL_INPUT_SCALE \(CSource.float(i.quant!.scale))
        #define TF_MODEL_INPUT_ZERO_POINT \(i.quant!.zeroPoint)
        #define TF_MODEL_OUTPUT_SIZE \(outSize) /* \(o.shape) */
        #define TF_MODEL_OUTPUT_SCALE \(CSource.float(o.quant!.scale))
        #define TF_MODEL_OUTPUT_ZERO_POINT \(o.quant!.zeroPoint)
        /* Bytes of the static activation arena (16-byte aligned), and the planner's lower bound. */
        #define TF_MODEL_ARENA_BYTES \(arenaBytes)
        #define TF_MODEL_ARENA_LOWER_BOUND \(arenaLowerBound)\(patchMacros)
        /* Bytes of constant weights, biases and requantisation parameters. */
        #define TF_MODEL_CONSTANT_BYTES \(constantBytes)

        int tf_model_invoke(const int8_t *input, int8_t *output);
        \(labelDecl)
        #endif /* TF_MODEL_H */

        """
    }

    /// Pointer expression of a tensor: a constant array, or its place in the arena.
    func ptr(_ id: TensorID, _ w: inout WeightsEmitter) -> String {
        if model.tensors[id].isConstant { return w.constant(id) }
        return "(arena + \(offset(id)))"
    }

    /// Arena offset of an activation (`CPatchLayout` places every tensor of a patched library).
    func offset(_ id: TensorID) -> Int { (patch?.tensorOffsets[id] ?? memory.tensorOffsets[id])! }

    private func shape(_ id: TensorID) -> String { CSource.shape(Shape4(extending: model.tensors[id].shape)) }

    /// Static parameter declarations and the kernel call of one step.
    func emit(step s: DeployStep, index i: Int, weights w: inout WeightsEmitter) -> ([String], String) {
        let y = ptr(s.output, &w)
        switch interpreter.prepared[s.ops[0]] {
        case let .conv(o, g, q, depthwise):
            let f = model.tensors[o.filter].shape
            let (mult, shift) = w.multipliers(step: i, q.multipliers)
            let decls = [
                "static const tf_geom_t g\(i) = { \(g.strideH), \(g.strideW), \(g.padTop), \(g.padLeft) };",
                requant(i, q, perChannel: true, mult, shift), epilogue(i, s.epilogue),
            ]
            let bias = o.bias.map { w.constant($0) } ?? "0"
            let filter = w.constant(o.filter)
            if s.inPlaceOver != nil {
                return (decls, "tf_depthwise_conv2d_in_place(\(ptr(o.input, &w)), \(shape(o.input)), \(filter), \(f[1]), \(f[2]), \(bias), &g\(i), &rq\(i), &ep\(i), arena + \((patch?.scratchOffsets[i] ?? memory.scratchOffsets[i])!));")
            }
            let fn = depthwise ? "tf_depthwise_conv2d" : "tf_conv2d"
            return (decls, "\(fn)(\(ptr(o.input, &w)), \(shape(o.input)), \(filter), \(f[1]), \(f[2]), \(bias), \(y), \(shape(o.output)), &g\(i), &rq\(i), &ep\(i));")
        case let .fullyConnected(o, batches, inDepth, outDepth, q):
            let (mult, shift) = w.multipliers(step: i, q.multipliers)
            let decls = [requant(i, q, perChannel: q.multipliers.count > 1, mult, shift), epilogue(i, s.epilogue)]
            let bias = o.bias.map { w.constant($0) } ?? "0"
            return (decls, "tf_fully_connected(\(ptr(o.input, &w)), \(batches), \(inDepth), \(w.constant(o.weights)), \(outDepth), \(bias), \(y), &rq\(i), &ep\(i));")
        case let .add(o, p):
            let decl = "static const tf_add_t p\(i) = { \(p.input1Offset), \(p.input2Offset), \(p.outputOffset), \(p.leftShift), \(CSource.multiplier(p.input1Multiplier)), \(CSource.multiplier(p.input2Multiplier)), \(CSource.multiplier(p.outputMultiplier)), \(p.activationMin), \(p.activationMax) };"
            return ([decl], "tf_add(\(ptr(o.lhs, &w)), \(shape(o.lhs)), \(ptr(o.rhs, &w)), \(shape(o.rhs)), \(y), \(shape(o.output)), &p\(i));")
        case let .mul(o, p):
            let decl = "static const tf_mul_t p\(i) = \(mulInit(p, swapped: false));"
            return ([decl], "tf_mul(\(ptr(o.lhs, &w)), \(shape(o.lhs)), \(ptr(o.rhs, &w)), \(shape(o.rhs)), \(y), \(shape(o.output)), &p\(i));")
        case let .mean(o, axes, m):
            let x = model.tensors[o.input]
            let rank = x.shape.count
            let mask = axes.reduce(0) { $0 | (1 << ($1 + 4 - rank)) }
            let count = x.elementCount / model.tensors[o.output].elementCount
            let folded = Self.foldMeanMultiplier(m, count: count)
            return ([], "tf_mean(\(ptr(o.input, &w)), \(shape(o.input)), \(mask), \(y), \(x.quant!.zeroPoint), \(model.tensors[o.output].quant!.zeroPoint), \(CSource.literal(folded.multiplier)), \(folded.shift), \(count));")
        case let .logistic(o, p):
            return (["static const tf_logistic_t p\(i) = \(logisticInit(p));"],
                    "tf_logistic(\(ptr(o.input, &w)), \(y), \(model.tensors[o.output].elementCount), &p\(i));")
        case let .hardSwish(o, p):
            return (["static const tf_hard_swish_t p\(i) = \(hardSwishInit(p));"],
                    "tf_hard_swish(\(ptr(o.input, &w)), \(y), \(model.tensors[o.output].elementCount), &p\(i));")
        case let .leakyRelu(o, p):
            return (["static const tf_leaky_relu_t p\(i) = \(leakyInit(p));"],
                    "tf_leaky_relu(\(ptr(o.input, &w)), \(y), \(model.tensors[o.output].elementCount), &p\(i));")
        case let .averagePool(o, g, lo, hi):
            return (["static const tf_geom_t g\(i) = { \(g.strideH), \(g.strideW), \(g.padTop), \(g.padLeft) };"],
                    "tf_average_pool2d(\(ptr(o.input, &w)), \(shape(o.input)), \(y), \(shape(o.output)), \(o.filterH), \(o.filterW), &g\(i), \(lo), \(hi));")
        case let .softmax(o, p, depth):
            let rows = model.tensors[o.input].elementCount / depth
            let factor = Int32(truncatingIfNeeded: p.inputLeftShift >= 0 ? Int64(1) << p.inputLeftShift : 0)
            return ([], "tf_softmax(\(ptr(o.input, &w)), \(y), \(rows), \(depth), \(CSource.literal(p.inputMultiplier)), \(CSource.literal(factor)), \(p.diffMin));")
        }
    }

    /// TFLM's MEAN folds 1/count into the multiplier (see `Int8Kernels.mean`); same integers.
    static func foldMeanMultiplier(_ m: QuantizedMultiplier, count n: Int) -> QuantizedMultiplier {
        var shift = 63 - UInt64(n).leadingZeroBitCount
        shift = min(shift, 32)
        shift = min(shift, 31 + m.shift)
        let folded = Int32(truncatingIfNeeded: (Int64(m.multiplier) << shift) / Int64(n))
        return QuantizedMultiplier(multiplier: folded, shift: m.shift - shift)
    }

    private func requant(_ i: Int, _ q: ConvQuantParams, perChannel: Bool, _ mult: String, _ shift: String) -> String {
        "static const tf_requant_t rq\(i) = { \(q.inputOffset), \(q.filterOffset), \(q.outputOffset), \(q.activationMin), \(q.activationMax), \(perChannel ? 1 : 0), \(mult), \(shift) };"
    }

    private func epilogue(_ i: Int, _ e: DeployStep.Epilogue) -> String {
        let body: String
        switch e {
        case .none: body = ".kind = TF_EPI_NONE"
        case let .leakyRelu(p): body = ".kind = TF_EPI_LEAKY_RELU, .leaky_relu = \(leakyInit(p))"
        case let .hardSwish(p): body = ".kind = TF_EPI_HARD_SWISH, .hard_swish = \(hardSwishInit(p))"
        case let .logistic(p): body = ".kind = TF_EPI_LOGISTIC, .logistic = \(logisticInit(p))"
        case let .swish(lp, mp, gateIsLhs):
            body = ".kind = TF_EPI_SWISH, .logistic = \(logisticInit(lp)), .mul = \(mulInit(mp, swapped: gateIsLhs))"
        }
        return "static const tf_epilogue_t ep\(i) = { \(body) };"
    }

    private func logisticInit(_ p: LogisticParams) -> String {
        "{ \(p.inputZeroPoint), \(p.inputRangeRadius), \(CSource.literal(p.inputMultiplier)), \(p.inputLeftShift) }"
    }

    private func hardSwishInit(_ p: HardSwishParams) -> String {
        "{ \(p.inputZeroPoint), \(p.outputZeroPoint), \(p.outputMultiplier), \(p.outputMultiplierExponent), \(p.reluishMultiplier), \(p.reluishMultiplierExponent) }"
    }

    private func leakyInit(_ p: LeakyReluParams) -> String {
        "{ \(p.inputZeroPoint), \(p.outputZeroPoint), \(CSource.multiplier(p.identityMultiplier)), \(CSource.multiplier(p.alphaMultiplier)) }"
    }

    /// `swapped`: the op's lhs was the gate, so input1 (the kernel's x) takes the rhs offset.
    /// The product (x − z_x)(g − z_g) and the multiplier s1·s2/s_out do not depend on order.
    private func mulInit(_ p: MulQuantParams, swapped: Bool) -> String {
        let (o1, o2) = swapped ? (p.input2Offset, p.input1Offset) : (p.input1Offset, p.input2Offset)
        return "{ \(o1), \(o2), \(p.outputOffset), \(CSource.multiplier(p.outputMultiplier)), \(p.activationMin), \(p.activationMax) }"
    }
}
