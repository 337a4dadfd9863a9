import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgePipeline
import TinyForgeSpec
import TinyForgeTraining

/// `tinyforge predict MODEL IMAGE...`: the top-k classes of a user's own PNG/JPEG photos.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Top-k classes with scores for PNG/JPEG images, from a checkpoint (float engine) or an exported model.tflite (int8 interpreter).",
        discussion: """
            Images are resized to the network's input (area, or the resize= method of the folder: dataset the
            checkpoint was trained on) and converted to its channels. A checkpoint's class names come from its
            metadata; a model.tflite's from labels.txt and its normalisation from manifest.json beside it (both
            written by tinyforge export). --int8 quantises a checkpoint first (calibrated on its dataset's training split).
            Example: tinyforge predict runs/a/finished/3f2a.../model.safetensors photo.jpg --top 3
            """)

    @Argument(help: "A model.safetensors checkpoint or an exported model.tflite.") var model: String
    @Argument(help: "PNG or JPEG files.") var images: [String]
    @Option(help: "Classes to show per image.") var top: Int = 3
    @Flag(help: "Checkpoint only: run the int8 model (Swift int8 interpreter, bit-exact with TFLM) instead of float.") var int8 = false
    @Option(help: "With --int8: dataset for calibration (default: the checkpoint's).") var dataset: String?
    @OptionGroup var quant: QuantizeOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        do {
            guard top >= 1 else { throw ValidationError("--top must be ≥ 1, got \(top)") }
            guard !images.isEmpty else { throw ValidationError("give at least one image file") }
            var decoded = [DecodedImage](), failures = [ImageFailure]()
            for path in images {
                switch ImageCodec.decodeFile(path) {
                case .success(let img): decoded.append(img)
                case .failure(let f): failures.append(f)
                }
            }
            if !failures.isEmpty { throw DataError.unreadableImages(failures: failures) }
            let (scores, labels, engine) = model.lowercased().hasSuffix(".tflite")
                ? try PredictTFLite.scores(model: model, images: decoded)
                : try checkpointScores(decoded)
            output(scores: scores, labels: labels, engine: engine)
        } catch let e as ValidationError { throw e } catch { throw fail(error) }
    }

    func checkpointScores(_ decoded: [DecodedImage]) throws -> ([[Float]], [String]?, String) {
        let (net, contents) = try Checkpoint.load(model)
        let spec = net.plan.spec
        guard let normText = contents.metadata["normalization"] else {
            throw TrainingError.checkpoint(file: model, reason: "has no input normalisation in its metadata; predict needs a checkpoint written by tinyforge train/finish")
        }
        let norm = try Normalization(metadataText: normText, file: model)
        let labels = try Checkpoint.labels(contents.metadata, file: model)
        let source = try (dataset ?? contents.metadata["dataset"]).map { try DatasetSource.parse($0) }
        // A folder: dataset was stored at its own size (then bilinear to the input, as in
        // training); other images go straight to the input size.
        var h = spec.input.height, w = spec.input.width, method = ResizeMethod.area
        if case .folder(let o)? = source { method = o.resize; h = o.height ?? h; w = o.width ?? w }
        let data = try ImagePrediction.dataset(decoded, height: h, width: w, channels: spec.input.channels, method: method)
        guard int8 else { return (try ImagePrediction.floatScores(net, data: data, normalization: norm), labels, "float engine") }
        guard let src = source else {
            throw ValidationError("--int8: the checkpoint does not name its dataset; give --dataset for calibration")
        }
        let splits = try DatasetLoader.load(spec: src, seed: 42)
        let q = try NetworkQuantization.quantize(net, normalization: norm, train: splits.train, settings: try quant.settings())
        return (try ImagePrediction.int8Scores(q.model, data: data, normalization: norm), labels, "int8 interpreter")
    }

    func output(scores: [[Float]], labels: [String]?, engine: String) {
        let results = scores.map { ImagePrediction.top($0, k: top, labels: labels) }
        if json {
            let rows: [JSONValue] = zip(images, results).map { file, r in
                ["image": .string(file), "top": .array(r.map { ["index": .number(Double($0.index)), "label": .string($0.label), "score": .number(Double($0.score))] })]
            }
            print(JSONValue.object(["model": .string(model), "engine": .string(engine), "predictions": .array(rows)]).prettyText())
            return
        }
        for (file, r) in zip(images, results) {
            print("\(file):  " + r.map { String(format: "%@ %.3f", $0.label, $0.score) }.joined(separator: "  "))
        }
    }
}
