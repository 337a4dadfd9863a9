import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeTraining

/// The demo's int8 steps: quantise the distilled student, measure int8 against float, write
/// the .tflite and the C library, and check the C library on a Cortex-M7 under QEMU.
public enum DemoDeploy {
    public struct Result {
        public var lines: [String]
        public var quantized: QuantizedNetwork
        public var network: Network
        public var inputs: [[Int8]]
        public var outDir: URL
        public var target: Target
    }

    public static func export(checkpoint: String, splits: DatasetSplits, norm: Normalization, outDir: URL,
                       target: Target = .stm32f746) throws -> Result {
        let (net, _) = try Checkpoint.load(checkpoint)
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: splits.train)
        let ev = try Int8Evaluation.evaluate(net, q, on: splits.val, normalization: norm)
        var lines = [String(format: "int8 (Swift engine, bit-exact with TFLM): val %.2f%% vs float %.2f%% (%+.2f points), top-1 agreement %.2f%% on %d images",
                            ev.int8Accuracy * 100, ev.floatAccuracy * 100, -ev.accuracyDrop * 100, ev.top1Agreement * 100, ev.count)]
        let inputs = try NetworkQuantization.int8Inputs(q, spec: net.plan.spec, data: splits.val, normalization: norm, count: 4)
        for format in ExportFormat.allCases {
            let dir = outDir.appendingPathComponent("export-\(format.rawValue)")
            let s = try ExportBundle.write(q, plan: net.plan, normalization: norm, format: format, to: dir, target: target,
                                           source: checkpoint, testInput: inputs.first)
            lines.append("\(format.rawValue): \(dir.path) (\(s.files.joined(separator: ", "))); model \(Units.formatBytes(s.modelBytes)), arena \(Units.formatBytes(s.arenaBytes)) vs TFLM ≈\(Units.formatBytes(s.tflmArenaEstimateBytes))")
        }
        return Result(lines: lines, quantized: q, network: net, inputs: inputs, outDir: outDir, target: target)
    }

    /// Lines describing the QEMU check, or why it could not run (never fatal for the demo).
    public static func qemu(_ r: Result) -> [String] {
        do {
            let check = try DeviceCheck.run(r.quantized, plan: r.network.plan, inputs: r.inputs, target: r.target,
                                            workDir: r.outDir.appendingPathComponent("qemu"))
            return check.table.split(separator: "\n").map(String.init)
        } catch {
            return ["QEMU check skipped: \(error)"]
        }
    }
}
