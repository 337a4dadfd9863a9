import TinyForgeHardware

/// Patch-based execution: each stage's ops run tile by tile on rectangles of their tensors
/// (with the same kernels and the same requantisation as `run`), each tile's part of the
/// stage output is copied into the full output; the ops around the stages run as in `run`.
/// Every output pixel is computed from exactly the input pixels the whole-tensor kernel
/// uses: a tile's input rectangle holds all in-bounds taps its windows read, and the taps
/// outside it are the padding the whole-tensor kernel skips too — so the bytes are equal.
extension Int8Interpreter {
    /// Runs the model with `stage` patch by patch; returns `model.outputs` like `run`.
    public func runPatched(inputs: [[Int8]], stage: Int8PatchStage) throws -> [[Int8]] {
        try runPatched(inputs: inputs, stages: [stage])
    }

    /// Runs the model with `stages` (in op order, none overlapping) patch by patch and the
    /// ops around them op by op; returns `model.outputs` like `run`.
    public func runPatched(inputs: [[Int8]], stages: [Int8PatchStage]) throws -> [[Int8]] {
        let all = try runPatchedAll(inputs: inputs, stages: stages)
        return model.outputs.map { all[$0]! }
    }

    /// Like `runPatched`, but returns the inputs, the stage output and every tensor after it
    /// (the stage's intermediates exist only as tiles).
    public func runPatchedAll(inputs: [[Int8]], stage: Int8PatchStage) throws -> [TensorID: [Int8]] {
        try runPatchedAll(inputs: inputs, stages: [stage])
    }

    /// Like `runPatched(inputs:stages:)`, but returns every tensor that exists in full: the
    /// inputs, the tensors of the ops run op by op and each stage's output (the stages'
    /// intermediates exist only as tiles).
    /// - Throws: `DeployError.patchStage` when the stages overlap or are out of order.
    public func runPatchedAll(inputs: [[Int8]], stages: [Int8PatchStage]) throws -> [TensorID: [Int8]] {
        var values = try inputValues(inputs)
        var n = 0
        for stage in stages {
            guard stage.first >= n else {
                throw DeployError.patchStage(reason: "a stage starts at op \(stage.first), before op \(n) where the previous one ends")
            }
            for i in n..<stage.first { values[model.ops[i].outputs[0]] = execute(prepared[i], values) }
            let outShape = model.tensors[stage.output].shape
            var full = [Int8](repeating: 0, count: model.tensors[stage.output].elementCount)
            for tile in stage.tiles {
                let part = runTile(tile, stage: stage, values: values)
                paste(part, region: tile[stage.output]!, into: &full, width: outShape[2], channels: outShape[3])
            }
            values[stage.output] = full
            n = stage.ops
        }
        for i in n..<prepared.count {
            values[model.ops[i].outputs[0]] = execute(prepared[i], values)
        }
        return values
    }

    /// A rectangle of a tensor, row-major, all channels.
    struct TileBuffer {
        var region: PatchRegion
        var data: [Int8]
    }

    /// One tile of the stage: returns its region of the stage output.
    func runTile(_ tile: [TensorID: PatchRegion], stage: Int8PatchStage, values: [TensorID: [Int8]]) -> [Int8] {
        let s = model.tensors[stage.input].shape
        var buf: [TensorID: TileBuffer] = [
            stage.input: TileBuffer(region: PatchRegion(rows: PixelSpan(0, s[1] - 1), cols: PixelSpan(0, s[2] - 1)), data: values[stage.input]!)]
        for n in stage.first..<stage.ops {
            let out = model.ops[n].outputs[0]
            let r = tile[out]!
            buf[out] = TileBuffer(region: r, data: tileOp(prepared[n], r, buf))
        }
        return buf[stage.output]!.data
    }

    /// One op over output region `r`, its inputs from tile buffers.
    func tileOp(_ op: PreparedOp, _ r: PatchRegion, _ buf: [TensorID: TileBuffer]) -> [Int8] {
        func crop(_ id: TensorID) -> [Int8] {
            let b = buf[id]!, c = model.tensors[id].shape[3]
            return Self.crop(b.data, from: b.region, to: r, channels: c)
        }
        switch op {
        case let .conv(o, g, q, depthwise):
            let x = buf[o.input]!, c = model.tensors[o.input].shape[3], cout = model.tensors[o.output].shape[3]
            let f = int8(o.filter, [:]), bias = int32(o.bias)
            let xShape = Shape4(1, x.region.rows.count, x.region.cols.count, c)
            let yShape = Shape4(1, r.rows.count, r.cols.count, cout)
            // Shift the padding so local row 0 of the output reads local row 0 of the input at
            // the global offset: global iy = oy·s − pad, local = global − x.lo.
            let geo = ConvGeometry(strideH: g.strideH, strideW: g.strideW,
                                   padTop: g.padTop + x.region.rows.lo - r.rows.lo * g.strideH,
                                   padLeft: g.padLeft + x.region.cols.lo - r.cols.lo * g.strideW)
            var y = [Int8](repeating: 0, count: yShape.count)
            x.data.withUnsafeBufferPointer { xp in
                f.withUnsafeBufferPointer { fp in
                    y.withUnsafeMutableBufferPointer { ypInout in
                        let yp = ypInout
                        let run = { (bp: UnsafeBufferPointer<Int32>?) in
                            if depthwise {
                                Int8Kernels.depthwiseConv2d(x: xp, xShape: xShape, filter: fp, filterShape: shape4(o.filter), bias: bp, y: yp, yShape: yShape, geometry: geo, quant: q)
                            } else {
                                Int8Kernels.conv2d(x: xp, xShape: xShape, filter: fp, filterShape: shape4(o.filter), bias: bp, y: yp, yShape: yShape, geometry: geo, quant: q)
                            }
                        }
                        if let bias { bias.withUnsafeBufferPointer { run($0) } } else { run(nil) }
                    }
                }
            }
            return y
        case let .add(o, p):
            return Self.zip(crop(o.lhs), crop(o.rhs)) { Int8Kernels.add($0, $1, p) }
        case let .mul(o, p):
            return Self.zip(crop(o.lhs), crop(o.rhs)) { Int8Kernels.mul($0, $1, p) }
        case let .logistic(o, p):
            return crop(o.input).map { Int8Kernels.logistic($0, p) }
        case let .hardSwish(o, p):
            return crop(o.input).map { Int8Kernels.hardSwish($0, p) }
        case let .leakyRelu(o, p):
            return crop(o.input).map { Int8Kernels.leakyRelu($0, p) }
        case .fullyConnected, .mean, .averagePool, .softmax:
            preconditionFailure("Int8PatchStage admits local ops only")
        }
    }

    static func zip(_ a: [Int8], _ b: [Int8], _ f: (Int8, Int8) -> Int8) -> [Int8] {
        (0..<a.count).map { f(a[$0], b[$0]) }
    }

    /// The part `to` of a rectangle `from` (which contains it).
    static func crop(_ data: [Int8], from: PatchRegion, to: PatchRegion, channels c: Int) -> [Int8] {
        if from == to { return data }
        var out = [Int8]()
        out.reserveCapacity(to.area * c)
        let w = from.cols.count
        for y in to.rows.lo...to.rows.hi {
            let start = ((y - from.rows.lo) * w + (to.cols.lo - from.cols.lo)) * c
            out.append(contentsOf: data[start..<start + to.cols.count * c])
        }
        return out
    }

    /// Writes a tile into the full tensor (width `width`).
    func paste(_ part: [Int8], region r: PatchRegion, into full: inout [Int8], width: Int, channels c: Int) {
        let rowBytes = r.cols.count * c
        for (i, y) in (r.rows.lo...r.rows.hi).enumerated() {
            let dst = (y * width + r.cols.lo) * c
            full.replaceSubrange(dst..<dst + rowBytes, with: part[i * rowBytes..<(i + 1) * rowBytes])
        }
    }
}
