import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeHardware
import TinyForgeTraining

/// A trained network ready for the int8 use cases: its input normalisation, the data the
/// quantiser calibrates on (training split) and the samples come from (validation split), and
/// where the weights came from (a checkpoint path, or a note on random weights) for the manifest.
public struct TrainedModel {
    public let network: Network, normalization: Normalization, splits: DatasetSplits, source: String

    public init(network: Network, normalization: Normalization, splits: DatasetSplits, source: String) {
        self.network = network; self.normalization = normalization; self.splits = splits; self.source = source
    }
}

/// `tinyforge export` as a library call.
public struct ExportRequest {
    public var model: TrainedModel
    public var quantization: QuantizationSettings
    public var format: ExportFormat
    public var directory: URL
    /// The MCU the manifest's cost-model estimates are for.
    public var target: Target
    public var labels: [String]?
    /// `--patch` (C format only: the C library runs the chosen patch plan).
    public var patch: PatchSetting
    public var patchMaxOverhead: Double

    public init(model: TrainedModel, quantization: QuantizationSettings, format: ExportFormat, directory: URL, target: Target,
                labels: [String]?, patch: PatchSetting = .off, patchMaxOverhead: Double = 0.2) {
        self.model = model; self.quantization = quantization; self.format = format; self.directory = directory
        self.target = target; self.labels = labels; self.patch = patch; self.patchMaxOverhead = patchMaxOverhead
    }
}

/// `tinyforge deploy-check` as a library call.
public struct DeviceCheckRequest {
    public var model: TrainedModel
    public var quantization: QuantizationSettings
    /// Validation images run on the device (≥ 1).
    public var samples: Int
    public var target: Target
    public var workDirectory: URL
    public var timeoutSeconds: Double
    /// `--patch`: the library runs the chosen patch plan (nil: layer by layer, not reported).
    public var patch: PatchSetting?
    public var patchMaxOverhead: Double

    public init(model: TrainedModel, quantization: QuantizationSettings, samples: Int, target: Target, workDirectory: URL,
                timeoutSeconds: Double = 600, patch: PatchSetting? = nil, patchMaxOverhead: Double = 0.2) {
        self.model = model; self.quantization = quantization; self.samples = samples; self.target = target
        self.workDirectory = workDirectory; self.timeoutSeconds = timeoutSeconds
        self.patch = patch; self.patchMaxOverhead = patchMaxOverhead
    }
}

/// Quantise (calibrated on the training split) → write the export bundle, or → build the C
/// library for a Cortex-M7 and compare it on the device with the Swift int8 engine.
public enum DeployPipeline {
    /// Writes the bundle (with the first validation image as its test vector); returns the
    /// quantised network beside the bundle's summary.
    public static func export(_ r: ExportRequest) throws -> (QuantizedNetwork, ExportSummary) {
        let m = r.model
        if r.patch != .off, r.format != .c { throw PipelineError.patchNeedsC(format: r.format.rawValue) }
        let q = try NetworkQuantization.quantize(m.network, normalization: m.normalization, train: m.splits.train, settings: r.quantization)
        let vector = try NetworkQuantization.int8Inputs(q, spec: m.network.plan.spec, data: m.splits.val,
                                                        normalization: m.normalization, count: 1).first
        let patch = try PatchPlanner.decide(KernelSchedule(plan: m.network.plan), setting: r.patch, maxOverhead: r.patchMaxOverhead)
        let s = try ExportBundle.write(q, plan: m.network.plan, normalization: m.normalization, format: r.format, to: r.directory,
                                       target: r.target, source: m.source, testInput: vector, labels: r.labels,
                                       patch: r.patch == .off ? nil : patch)
        return (q, s)
    }

    /// Runs the device check on `samples` validation images.
    public static func deviceCheck(_ r: DeviceCheckRequest) throws -> DeviceCheckResult {
        guard r.samples >= 1 else { throw PipelineError.samples(r.samples) }
        let m = r.model
        let q = try NetworkQuantization.quantize(m.network, normalization: m.normalization, train: m.splits.train, settings: r.quantization)
        let inputs = try NetworkQuantization.int8Inputs(q, spec: m.network.plan.spec, data: m.splits.val,
                                                        normalization: m.normalization, count: r.samples)
        let patch = try r.patch.map {
            try PatchPlanner.decide(KernelSchedule(plan: m.network.plan), setting: $0, maxOverhead: r.patchMaxOverhead)
        }
        return try DeviceCheck.run(q, plan: m.network.plan, inputs: inputs, target: r.target, workDir: r.workDirectory,
                                   timeout: r.timeoutSeconds, patch: patch)
    }
}
