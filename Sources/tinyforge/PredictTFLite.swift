import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgePipeline
import TinyForgeSpec

/// `predict` on an exported `model.tflite`: the model read back into the Swift int8
/// interpreter, its normalisation from `manifest.json` and class names from `labels.txt`
/// beside it (both written by `tinyforge export`).
enum PredictTFLite {
    static func scores(model path: String, images: [DecodedImage]) throws -> ([[Float]], [String]?, String) {
        let dir = (path as NSString).deletingLastPathComponent
        let model = try TFLiteReader.read(path: path)
        let manifestPath = (dir as NSString).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw ValidationError("\(manifestPath) is missing: predict takes the input normalisation (mean, std) from the manifest.json that tinyforge export writes beside model.tflite")
        }
        guard case .object(let m) = try JSONValue.parse(data, source: manifestPath),
              case .object(let input)? = m["input"], case .object(let pre)? = input["preprocess"],
              case .array(let mean)? = pre["mean"], case .array(let std)? = pre["std"] else {
            throw ValidationError("\(manifestPath): no input.preprocess.mean/std (not a tinyforge export manifest)")
        }
        func floats(_ a: [JSONValue]) -> [Float] { a.compactMap { if case .number(let d) = $0 { return Float(d) }; return nil } }
        let norm = Normalization(mean: floats(mean), std: floats(std))
        let labelsPath = (dir as NSString).appendingPathComponent(ExportBundle.labelsFileName)
        let labels = (try? String(contentsOfFile: labelsPath, encoding: .utf8))?
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        let shape = model.tensors[model.inputs[0]].shape
        guard shape.count == 4 else { throw ValidationError("\(path): input shape \(shape) is not NHWC") }
        let set = try ImagePrediction.dataset(images, height: shape[1], width: shape[2], channels: shape[3], method: .area)
        return (try ImagePrediction.int8Scores(model, data: set, normalization: norm), labels, "int8 interpreter (\(path))")
    }
}
