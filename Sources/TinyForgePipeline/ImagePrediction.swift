import Foundation
import TinyForgeData
import TinyForgeDeploy
import TinyForgeEngine
import TinyForgeSpec
import TinyForgeTraining

/// One class and its score (a probability) for `tinyforge predict`.
public struct ClassScore: Sendable, Equatable {
    public var index: Int
    public var label: String
    public var score: Float
}

/// The quick check on a user's own photos: decoded images → the network's geometry → top-k
/// classes, on the float engine (checkpoint) or the Swift int8 interpreter (int8 model).
public enum ImagePrediction {
    /// Brings decoded images to `height`×`width`×`channels` (resize with `method`, colour →
    /// grey by BT.601 luma, grey → colour by replication) as one byte dataset.
    public static func dataset(_ images: [DecodedImage], height: Int, width: Int, channels: Int,
                               method: ResizeMethod) throws -> Dataset {
        var pixels = [UInt8]()
        for img in images {
            let c = ImageResize.convert(img, channels: channels == 1 ? 1 : 3)
            pixels += ImageResize.resize(c, height: height, width: width, method: method).pixels
        }
        return try Dataset(name: "images", height: height, width: width, channels: channels == 1 ? 1 : 3,
                           pixels: .uint8(pixels), labels: [Int32](repeating: 0, count: images.count), classCount: 1)
    }

    /// Softmax probabilities of the float network, one row per image.
    public static func floatScores(_ net: Network, data: Dataset, normalization: Normalization) throws -> [[Float]] {
        let k = net.plan.spec.numClasses
        let logits = try Trainer.logits(net, on: data, normalization: normalization)
        return (0..<data.count).map { softmax(Array(logits[($0 * k)..<(($0 + 1) * k)])) }
    }

    /// Probabilities from an int8 model run by `Int8Interpreter`: the image normalised and
    /// quantised with the model's input parameters, the output dequantised (and soft-maxed
    /// unless the model ends in SOFTMAX).
    public static func int8Scores(_ model: QuantizedModel, data: Dataset, normalization: Normalization) throws -> [[Float]] {
        let inT = model.tensors[model.inputs[0]], outT = model.tensors[model.outputs[0]]
        guard inT.shape.count == 4, let inQ = inT.quant, let outQ = outT.quant else {
            throw DeployError.unsupported(op: 0, kind: model.ops.first?.kind ?? "", reason: "predict needs a quantised NHWC int8 input and a quantised output")
        }
        let pre = try Preprocessor(inputHeight: data.height, inputWidth: data.width, inputChannels: data.channels,
                                   config: PreprocessConfig(height: inT.shape[1], width: inT.shape[2], channels: inT.shape[3],
                                                            normalization: normalization))
        var it = try BatchIterator(dataset: data, preprocessor: pre, batchSize: max(1, data.count), seed: 0, shuffle: false)
        guard let batch = it.next() else { return [] }
        let per = inT.elementCount
        let interpreter = try Int8Interpreter(model: model)
        let endsInSoftmax: Bool = { if case .softmax? = model.ops.last { return true }; return false }()
        return try (0..<batch.count).map { i in
            let x = batch.images[(i * per)..<((i + 1) * per)].map { Quantizer.quantize($0, inQ) }
            let y = try interpreter.run(inputs: [x])[0].map { Quantizer.dequantize($0, outQ) }
            return endsInSoftmax ? y : softmax(y)
        }
    }

    /// The `k` best classes, highest score first (ties: lower index); names from `labels`, or
    /// `class N` beyond them.
    public static func top(_ scores: [Float], k: Int, labels: [String]?) -> [ClassScore] {
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        return order.prefix(max(1, k)).map { i in
            ClassScore(index: i, label: labels.flatMap { i < $0.count ? $0[i] : nil } ?? "class \(i)", score: scores[i])
        }
    }

    static func softmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
