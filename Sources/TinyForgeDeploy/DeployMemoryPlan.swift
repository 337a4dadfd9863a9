import TinyForgeHardware

/// Where every activation of the fused schedule lives in the C runtime's one static arena.
///
/// Lifetimes are counted in `DeployStep`s: the model input is live from step 0, the model
/// output to the last step, every other tensor from its producing step to its last reader;
/// a tensor computed in place shares its input's buffer (one lifetime covering both); the
/// depthwise in-place plane is a scratch buffer live at its step only. TinyForgeHardware's
/// `MemoryPlanner` places the buffers (16-byte aligned). The generated `model.c` uses exactly
/// these offsets, so `arenaBytes` is the `static int8_t arena[]` the linker sees.
public struct DeployMemoryPlan: Sendable {
    public var steps: [DeployStep]
    /// One request per buffer: ids < tensor count are tensors (the root of an in-place
    /// chain), ids ≥ `scratchIdBase` are step scratch (`scratchIdBase + step`).
    public var requests: [BufferRequest]
    public var plan: MemoryPlan
    public var scratchIdBase: Int
    /// Arena offset of every activation tensor the runtime materialises.
    public var tensorOffsets: [TensorID: Int]
    /// Arena offset of each step's scratch buffer, keyed by step index.
    public var scratchOffsets: [Int: Int]
    /// Bytes (unaligned request sizes) of the buffers alive during each step.
    public var liveBytesPerStep: [Int]

    /// Bytes of the static arena.
    public var arenaBytes: Int { plan.arenaBytes }
    /// The most (aligned) bytes alive at any one step: no placement can do better.
    public var lowerBound: Int { plan.lowerBound }
    /// Index of the step with the most live bytes.
    public var peakStep: Int { liveBytesPerStep.indices.max { liveBytesPerStep[$0] < liveBytesPerStep[$1] } ?? 0 }

    public init(model: QuantizedModel, steps: [DeployStep], alignment: Int = 16) throws {
        self.steps = steps
        let t = model.tensors
        var root = [TensorID: TensorID]()
        func find(_ id: TensorID) -> TensorID { var r = id; while let p = root[r] { r = p }; return r }
        for s in steps { if let x = s.inPlaceOver { root[s.output] = find(x) } }

        var first = [Int: Int](), last = [Int: Int](), size = [Int: Int]()
        func touch(_ id: TensorID, _ step: Int) {
            let r = find(id)
            first[r] = min(first[r] ?? step, step)
            last[r] = max(last[r] ?? step, step)
            size[r] = max(size[r] ?? 0, t[id].elementCount * t[id].type.byteSize)
        }
        let end = max(steps.count - 1, 0)
        for id in model.inputs { touch(id, 0) }
        for (i, s) in steps.enumerated() {
            for id in s.inputs { touch(id, i) }
            touch(s.output, i)
        }
        for id in model.outputs { touch(id, end) }
        scratchIdBase = t.count
        var requests = first.keys.sorted().map {
            BufferRequest(id: $0, size: size[$0]!, firstStep: first[$0]!, lastStep: last[$0]!)
        }
        for (i, s) in steps.enumerated() where s.scratchBytes > 0 {
            requests.append(BufferRequest(id: t.count + i, size: s.scratchBytes, firstStep: i, lastStep: i))
        }
        self.requests = requests
        plan = try MemoryPlanner.plan(requests, options: MemoryPlannerOptions(alignment: alignment))
        let offsets = plan.offsets
        var tensorOffsets = [TensorID: Int]()
        for id in Set(steps.flatMap { $0.inputs + [$0.output] } + model.inputs + model.outputs) {
            tensorOffsets[id] = offsets[find(id)]!
        }
        self.tensorOffsets = tensorOffsets
        var scratch = [Int: Int]()
        for (i, s) in steps.enumerated() where s.scratchBytes > 0 { scratch[i] = offsets[t.count + i]! }
        scratchOffsets = scratch
        liveBytesPerStep = steps.indices.map { i in
            requests.filter { $0.firstStep <= i && i <= $0.lastStep }.reduce(0) { $0 + $1.size }
        }
    }

    /// One line per step: index, kernel, live bytes, in-place/scratch notes (for reports).
    public func describe(_ model: QuantizedModel) -> String {
        var lines = ["arena \(arenaBytes) B (lower bound \(lowerBound) B, TFLM greedy on the same lifetimes \(plan.tflmArenaBytes) B)"]
        for (i, s) in steps.enumerated() {
            let out = model.tensors[s.output]
            var line = "#\(i) \(s.label(model)) -> '\(out.name)' \(out.shape) @\(tensorOffsets[s.output]!) live \(liveBytesPerStep[i]) B"
            if let sc = scratchOffsets[i] { line += ", plane scratch \(s.scratchBytes) B @\(sc)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
