// Training-throughput benchmark of the TinyForge engine on two MobileNetV2-style CIFAR nets.
// Usage: tinyforge-engine-bench [--threads 2] [--batch 64] [--iters 10] [--net a|b|both] [--no-link] [--network] [--dw] [--gemm]
// --no-link: every layer applies its own BN + activation (no `ConvBNAct.link` fusion), for comparison.
// --network: the same nets written as architecture JSON and trained through `Network` + `Optimizer`
//            (the path `tinyforge train` and the search use) instead of the hand-built layer list.
// torch_reference.py builds the same nets in PyTorch and prints the same lines.
// FLOP convention: 2·MACs per image for forward, ×3 for forward+backward (dX and dW GEMMs).
import Foundation
import TinyForgeEngine
import TinyForgeHardware
import TinyForgeSpec
import TinyForgeTraining

struct NetConfig {
    let name: String
    let stem: Int
    let blocks: [(t: Int, c: Int, n: Int, s: Int)]
    let head: Int
}

let netA = NetConfig(name: "A (MobileNetV2-style, ~11 M MACs)", stem: 16,
                     blocks: [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 2, 2), (6, 96, 1, 1)], head: 320)
let netB = NetConfig(name: "B (wider/deeper, ~43 M MACs)", stem: 32,
                     blocks: [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 1), (6, 64, 3, 2), (6, 96, 2, 1), (6, 160, 1, 2)], head: 640)

/// One node of the hand-built network: a layer, or a residual join with the input of the block.
enum Node {
    case layer(Layer, kind: String)
    case blockStart
    case residual(ResidualAdd)
}

final class Net {
    var nodes: [Node] = []
    var macs = 0
    var times: [String: Double] = [:]
    let loss = "loss"

    init(_ cfg: NetConfig, pool: ThreadPool, seed: UInt64, link: Bool) throws {
        var rng = SeededGenerator(seed: seed)
        var h = 32, c = cfg.stem
        let stem = try ConvBNAct(cin: 3, cout: c, kernel: 3, activation: .relu6, pool: pool, rng: &rng)
        stem.computeInputGradient = false
        nodes.append(.layer(stem, kind: "conv3x3 full")); macs += h * h * 27 * c
        for b in cfg.blocks {
            for i in 0..<b.n {
                let s = i == 0 ? b.s : 1, e = c * b.t, oh = (h + s - 1) / s
                let res = s == 1 && c == b.c
                if res { nodes.append(.blockStart) }
                var expand: ConvBNAct?
                if b.t != 1 {
                    expand = try ConvBNAct(cin: c, cout: e, kernel: 1, activation: .relu6, pool: pool, rng: &rng)
                    nodes.append(.layer(expand!, kind: "conv1x1"))
                    macs += h * h * c * e
                }
                let dw = try ConvBNAct(cin: e, cout: e, kernel: 3, stride: s, groups: e, activation: .relu6, pool: pool, rng: &rng)
                nodes.append(.layer(dw, kind: "depthwise"))
                macs += oh * oh * e * 9
                let project = try ConvBNAct(cin: e, cout: b.c, kernel: 1, activation: nil, pool: pool, rng: &rng)
                nodes.append(.layer(project, kind: "conv1x1"))
                macs += oh * oh * e * b.c
                // As `Network` does: each BN + activation inside the block is applied by its reader.
                if link {
                    if let expand { try ConvBNAct.link(producer: expand, consumer: dw) }
                    try ConvBNAct.link(producer: dw, consumer: project)
                }
                if res { nodes.append(.residual(ResidualAdd(activation: nil, pool: pool))) }
                h = oh; c = b.c
            }
        }
        nodes.append(.layer(try ConvBNAct(cin: c, cout: cfg.head, kernel: 1, activation: .relu6, pool: pool, rng: &rng), kind: "conv1x1"))
        macs += h * h * c * cfg.head
        nodes.append(.layer(GlobalAvgPool(pool: pool), kind: "pool+linear"))
        nodes.append(.layer(try Linear(inFeatures: cfg.head, outFeatures: 10, pool: pool, rng: &rng), kind: "pool+linear"))
        macs += cfg.head * 10
    }

    var layers: [Layer] { nodes.compactMap { if case .layer(let l, _) = $0 { return l } else { return nil } } }

    @inline(__always) func timed<R>(_ kind: String, _ body: () -> R) -> R {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r = body()
        times[kind, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        return r
    }

    func step(_ x: Tensor, _ labels: [Int], sgd: SGD) throws -> Float {
        var skips: [Tensor] = []
        var cur = x
        for node in nodes {
            switch node {
            case .layer(let l, let kind): cur = timed(kind) { l.forward(cur, training: true) }
            case .blockStart: skips.append(cur)
            case .residual(let r): let s = skips.removeLast(); cur = timed("residual") { r.forward(cur, s) }
            }
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (loss, dlogits) = try SoftmaxCrossEntropy.compute(logits: cur, labels: labels, smoothing: 0.1)
        times["loss+sgd", default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        var grad = dlogits
        var skipGrads: [Tensor] = []
        for l in layers { l.zeroGrad() }
        for node in nodes.reversed() {
            switch node {
            case .layer(let l, let kind): grad = timed(kind) { l.backward(grad) }
            case .residual(let r): grad = timed("residual") { r.backward(grad) }; skipGrads.append(grad.clone())
            case .blockStart:
                let sg = skipGrads.removeLast()
                timed("residual") { for i in 0..<grad.count { grad[i] += sg[i] } }
            }
        }
        timed("loss+sgd") { sgd.step(layers.flatMap { $0.parameters }) }
        return loss
    }
}

/// SGD with momentum 0.9 and weight decay on conv/linear weights only (PyTorch semantics:
/// v = μ·v + (g + wd·w); w −= lr·v).
final class SGD {
    var velocity: [ObjectIdentifier: Tensor] = [:]
    let lr: Float = 0.01, momentum: Float = 0.9, wd: Float = 5e-4
    func step(_ params: [Parameter]) {
        for p in params {
            let v = velocity[ObjectIdentifier(p.value)] ?? Tensor(shape: p.value.shape)
            velocity[ObjectIdentifier(p.value)] = v
            let decay = p.isBatchNormOrBias ? 0 : wd
            for i in 0..<p.value.count {
                let g = p.grad[i] + decay * p.value[i]
                v[i] = momentum * v[i] + g
                p.value[i] -= lr * v[i]
            }
        }
    }
}

var threads = 2, batch = 64, iters = 10, which = "both", dwMicro = false, gemmMicro = false, linkLayers = true, viaNetwork = false
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--threads": threads = Int(args.next()!)!
    case "--batch": batch = Int(args.next()!)!
    case "--iters": iters = Int(args.next()!)!
    case "--net": which = args.next()!
    case "--dw": dwMicro = true
    case "--gemm": gemmMicro = true
    case "--no-link": linkLayers = false
    case "--network": viaNetwork = true
    default: print("unknown argument \(a)"); exit(2)
    }
}

/// `--dw`: the depthwise layers of net A (batch images, one thread), per-pixel kernels
/// (`DepthwiseSimple`) against the register-blocked ones (`Depthwise`), interleaved so that
/// load changes on a shared machine hit both alike; each figure is the thread's CPU time, the
/// fastest of `iters` repetitions (the least disturbed one). Prints ms per batch for fwd, dW, dX.
func depthwiseMicro() {
    let shapes = [(32, 16, 1), (32, 96, 2), (16, 144, 1), (16, 144, 2), (8, 192, 1), (8, 192, 2), (4, 384, 1), (4, 576, 1)]
    var rng = SeededGenerator(seed: 9)
    var totals = [[Double]](repeating: [0, 0, 0], count: 2)
    for (h, c, st) in shapes {
        let s = ConvShape(n: 1, h: h, w: h, cin: c, cout: c, k: 3, stride: st, depthwise: true)
        let x = Tensor(shape: [batch, h, h, c]), wt = Tensor(shape: [9 * c]), dz = Tensor(shape: [batch, s.oh, s.ow, c])
        for i in 0..<x.count { x[i] = rng.nextGaussian() }
        for i in 0..<wt.count { wt[i] = rng.nextGaussian() }
        for i in 0..<dz.count { dz[i] = rng.nextGaussian() }
        let z = Tensor(shape: dz.shape), dx = Tensor(shape: x.shape), dw = Tensor(shape: [9 * c])
        let scratch = Tensor(shape: [Depthwise.scratchSize(s)])
        let xi = h * h * c, zi = s.oh * s.ow * c
        var t = [[Double]](repeating: [.infinity, .infinity, .infinity], count: 2)
        // CPU time of this thread: on a shared machine wall time mostly measures other processes.
        func cpuNow() -> Double {
            var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) * 1e-6
        }
        func time(_ body: () -> Void) -> Double {
            let t0 = cpuNow(); body(); return cpuNow() - t0
        }
        for _ in 0..<iters {
            for v in 0..<2 {
                t[v][0] = min(t[v][0], time { for n in 0..<batch {
                    if v == 0 { DepthwiseSimple.forward(x.data + n * xi, wt.data, z.data + n * zi, s) }
                    else { Depthwise.forward(x.data + n * xi, wt.data, z.data + n * zi, s, scratch: scratch.data) } } })
                t[v][1] = min(t[v][1], time { for n in 0..<batch {
                    if v == 0 { DepthwiseSimple.backwardWeights(x.data + n * xi, dz.data + n * zi, dw.data, s) }
                    else { Depthwise.backwardWeights(x.data + n * xi, dz.data + n * zi, dw.data, s, scratch: scratch.data) } } })
                t[v][2] = min(t[v][2], time { for n in 0..<batch {
                    if v == 0 { DepthwiseSimple.backwardInput(dz.data + n * zi, wt.data, dx.data + n * xi, s) }
                    else { Depthwise.backwardInput(dz.data + n * zi, wt.data, dx.data + n * xi, s, scratch: scratch.data) } } })
            }
        }
        for v in 0..<2 { for j in 0..<3 { totals[v][j] += t[v][j] } }
        print(String(format: "dw3x3 %2dx%-2d c%-3d s%d  fwd %6.2f → %6.2f  dW %6.2f → %6.2f  dX %6.2f → %6.2f ms/batch",
                     h, h, c, st, t[0][0] , t[1][0], t[0][1],
                     t[1][1], t[0][2], t[1][2]))
    }
    let old = totals[0].reduce(0, +), new = totals[1].reduce(0, +)
    print(String(format: "depthwise total (per-pixel → blocked): fwd %.1f → %.1f, dW %.1f → %.1f, dX %.1f → %.1f ms/batch; %.2f× overall",
                 totals[0][0], totals[1][0], totals[0][1], totals[1][1], totals[0][2], totals[1][2], old / new))
}

/// `--gemm`: the 1×1-conv GEMMs of net B for one share of 8 images (forward, dW, dX as
/// ConvBNAct issues them: 48–512-row chunks, weights packed once per pass, dz per chunk), each GEMM kernel, thread CPU time, fastest of
/// `iters`. Prints GFLOP/s per kernel and which one `Gemm.selected` picked.
func gemmMicroBench() {
    // (spatial, cin, cout) of net B's 1×1 convs
    let shapes = [(32, 32, 16), (32, 16, 96), (32, 96, 24), (16, 24, 144), (16, 144, 24), (16, 144, 32), (16, 32, 192),
                  (16, 192, 32), (8, 192, 64), (8, 64, 384), (8, 384, 64), (8, 384, 96), (8, 96, 576), (8, 576, 96),
                  (4, 576, 160), (4, 160, 960), (4, 960, 160), (4, 160, 640)]
    let imgs = 8
    var rng = SeededGenerator(seed: 11)
    let ws = Workspace()
    func cpuNow() -> Double { var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
    var tot = [Double](repeating: 0, count: GemmKernel.allCases.count), flops = 0.0
    for (h, cin, cout) in shapes {
        let rowsAll = imgs * h * h
        let chunk = max(48, min(512, 24_576 / max(cin, cout)))
        let x = Tensor(shape: [rowsAll * cin]), w = Tensor(shape: [cin * cout]), dz = Tensor(shape: [rowsAll * cout])
        for i in 0..<x.count { x[i] = rng.nextGaussian() }
        for i in 0..<w.count { w[i] = rng.nextGaussian() }
        for i in 0..<dz.count { dz[i] = rng.nextGaussian() }
        let z = Tensor(shape: [rowsAll * cout]), dx = Tensor(shape: [rowsAll * cin]), dw = Tensor(shape: [cin * cout])
        let pack = ws.floats(.pack, Gemm.packSize(n: max(cin, cout)))
        let pw = Tensor(shape: [Gemm.packedSize(k: max(cin, cout), n: max(cin, cout))])
        var line = String(format: "1x1 %2dx%-2d %3d→%-3d chunk %3d", h, h, cin, cout, chunk)
        for (ki, kern) in GemmKernel.allCases.enumerated() {
            var best = [Double](repeating: .infinity, count: 3)
            for _ in 0..<iters {
                for part in 0..<3 {
                    let t0 = cpuNow()
                    if part == 0 { Gemm.packAll(k: cin, n: cout, b: w.data, rsB: cout, csB: 1, into: pw.data, kernel: kern) }
                    if part == 2 { Gemm.packAll(k: cout, n: cin, b: w.data, rsB: 1, csB: cout, into: pw.data, kernel: kern) }
                    var p = 0
                    while p < rowsAll {
                        let rows = min(chunk, rowsAll - p)
                        switch part {
                        case 0: Gemm.sgemm(m: rows, n: cout, k: cin, a: x.data + p * cin, rsA: cin, csA: 1, packedB: pw.data,
                                           c: z.data + p * cout, ldc: cout, accumulate: false, kernel: kern)
                        case 1: Gemm.sgemm(m: cin, n: cout, k: rows, a: x.data + p * cin, rsA: 1, csA: cin, b: dz.data + p * cout, rsB: cout, csB: 1,
                                           c: dw.data, ldc: cout, accumulate: true, pack: pack, kernel: kern)
                        default: Gemm.sgemm(m: rows, n: cin, k: cout, a: dz.data + p * cout, rsA: cout, csA: 1, packedB: pw.data,
                                            c: dx.data + p * cin, ldc: cin, accumulate: false, kernel: kern)
                        }
                        p += rows
                    }
                    best[part] = min(best[part], cpuNow() - t0)
                }
            }
            let f = 2.0 * Double(rowsAll * cin * cout)
            tot[ki] += best.reduce(0, +)
            if ki == 0 { flops += 3 * f }
            line += String(format: "  %@ fwd %5.1f dW %5.1f dX %5.1f", kern.rawValue, f / best[0] / 1e9, f / best[1] / 1e9, f / best[2] / 1e9)
        }
        print(line + " GFLOP/s")
    }
    for (ki, kern) in GemmKernel.allCases.enumerated() {
        print(String(format: "%@ total: %.2f ms per 8 images, %.1f GFLOP/s", kern.rawValue, tot[ki] * 1e3, flops / tot[ki] / 1e9))
    }
    print("Gemm.selected = \(Gemm.selected.rawValue)")
}

if dwMicro { depthwiseMicro(); exit(0) }
if gemmMicro { gemmMicroBench(); exit(0) }

/// The bench net as our architecture JSON (stem 3×3/1, a `dsconv` for t = 1, `mbconv` stages,
/// residual where shapes match, 1×1 head conv, no dropout), for `--network`.
func specJSON(_ cfg: NetConfig) -> String {
    let stages = cfg.blocks.map { b in
        #"{"block": "\#(b.t == 1 ? "dsconv" : "mbconv")", "repeats": \#(b.n), "out_channels": \#(b.c), "kernel": 3, "stride": \#(b.s), "expansion": \#(b.t), "activation": "relu6", "skip": "residual_same"}"#
    }
    return #"{"name": "engine-bench", "input": {"height": 32, "width": 32, "channels": 3}, "num_classes": 10, "stem": {"out_channels": \#(cfg.stem), "kernel": 3, "stride": 1, "activation": "relu6"}, "stages": [\#(stages.joined(separator: ", "))], "head": {"conv_channels": \#(cfg.head), "activation": "relu6", "dropout": 0}}"#
}

/// `--network`: one training step through `Network` + `Optimizer` (SGD momentum 0.9, wd 5e-4 on
/// conv/linear weights, lr 0.01), timed like the hand-built net.
func benchNetwork(_ cfg: NetConfig, x: Tensor, labels: [Int]) throws {
    let spec = try ArchitectureSpec.decode(jsonText: specJSON(cfg)).spec
    let plan = LayerPlan(spec: spec)
    let net = try Network(plan: plan, seed: 1, threads: threads, linkBatchNorm: linkLayers)
    var oc = OptimizerConfig(); oc.nesterov = false; oc.weightDecay = 5e-4
    let opt = Optimizer(oc, parameters: net.parameters)
    func step() throws -> Float {
        net.zeroGrad()
        let (loss, d) = try SoftmaxCrossEntropy.compute(logits: net.forward(x, training: true), labels: labels, smoothing: 0.1)
        net.backward(d)
        opt.step(lr: 0.01)
        return loss
    }
    let r = try timeSteps(step)
    let ips = Double(iters * batch) / r.seconds
    print(String(format: "tinyforge-network net %@: MACs %.2f M, params %d, batch %d, threads %d: %.1f images/s, %.1f GFLOP/s (loss %.3f); %d linked pairs",
                 cfg.name, Double(plan.macs) / 1e6, net.parameterCount, batch, threads, ips, ips * Double(plan.macs) * 6 / 1e9, r.loss, net.linkedPairs))
    print(String(format: "  median step %.1f ms = %.1f images/s", r.median * 1e3, Double(batch) / r.median))
}

/// Two warm-up steps, then `iters` timed ones: wall seconds, process CPU seconds, the median
/// step (steadier than the mean when another process takes the CPU for a moment), last loss.
func timeSteps(_ step: () throws -> Float, beforeTiming: () -> Void = {}) rethrows
    -> (seconds: Double, cpu: Double, median: Double, loss: Float) {
    for _ in 0..<2 { _ = try step() }
    beforeTiming()
    func processCPU() -> Double { var ts = timespec(); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
    let t0 = DispatchTime.now().uptimeNanoseconds, c0 = processCPU()
    var loss: Float = 0, times: [Double] = []
    for _ in 0..<iters {
        let s0 = DispatchTime.now().uptimeNanoseconds
        loss = try step()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - s0) * 1e-9)
    }
    return (Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9, processCPU() - c0, times.sorted()[iters / 2], loss)
}

let pool = ThreadPool(threads: threads)
var dataRng = SeededGenerator(seed: 5)
let x = Tensor(shape: [batch, 32, 32, 3])
for i in 0..<x.count { x[i] = dataRng.nextGaussian() }
let labels = (0..<batch).map { _ in Int(dataRng.next() % 10) }

for cfg in (which == "a" ? [netA] : which == "b" ? [netB] : [netA, netB]) {
    if viaNetwork { try benchNetwork(cfg, x: x, labels: labels); continue }
    let net = try Net(cfg, pool: pool, seed: 1, link: linkLayers)
    let sgd = SGD()
    let params = net.layers.reduce(0) { $0 + $1.parameterCount }
    let r = try timeSteps({ try net.step(x, labels, sgd: sgd) }, beforeTiming: { net.times = [:] })
    let sec = r.seconds, cpu = r.cpu, loss = r.loss, medianStep = r.median
    let ips = Double(iters * batch) / sec
    let gflops = ips * Double(net.macs) * 6 / 1e9
    // Images per CPU-second of the whole process: what one core achieves when the OS gives it
    // to us (robust on a shared machine; at 2 threads it also charges spinning and imbalance).
    let ipc = Double(iters * batch) / cpu
    print(String(format: "tinyforge net %@: MACs %.2f M, params %d, batch %d, threads %d: %.1f images/s, %.1f GFLOP/s (loss %.3f); per CPU-second: %.1f images, %.1f GFLOP",
                 cfg.name, Double(net.macs) / 1e6, params, batch, threads, ips, gflops, loss, ipc, ipc * Double(net.macs) * 6 / 1e9))
    print(String(format: "  median step %.1f ms = %.1f images/s", medianStep * 1e3, Double(batch) / medianStep))
    let total = net.times.values.reduce(0, +)
    for (k, v) in net.times.sorted(by: { $0.value > $1.value }) {
        print(String(format: "  %-14@ %5.1f%%  %.2f ms/batch", k as NSString, 100 * v / total, 1000 * v / Double(iters)))
    }
}
