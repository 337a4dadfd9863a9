import ArgumentParser
import Foundation
import TinyForgeData
import TinyForgeSpec

/// `tinyforge dataset-info --dataset SRC`: loads a dataset once (for `folder:`, decoding it into
/// the cache that search workers then read) and reports what was loaded and how long it took.
struct DatasetInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset-info",
        abstract: "Load a dataset and print its splits, classes, geometry and load time (folder: fills its decode cache).")

    @Option(help: "Dataset source (as --dataset elsewhere).") var dataset: String
    @Flag(help: "folder: datasets: leave out undecodable images instead of failing.") var skipBadImages = false
    @Option(help: "Decoding threads for folder: (default: all cores).") var threads: Int?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        do {
            if let t = threads, !(1...16).contains(t) { throw ValidationError("--threads must be in 1...16, got \(t)") }
            let source = try DatasetSource.parse(dataset).skippingBadImages(skipBadImages)
            let start = DispatchTime.now().uptimeNanoseconds
            var info: [String: JSONValue] = ["dataset": .string(source.description)]
            let train: Dataset, test: Dataset?
            var valCount = 0
            if case .folder(let o) = source {
                let r = try ImageFolder.load(o, threads: threads)
                train = r.train; test = r.test
                valCount = r.val?.count ?? 0
                info["val"] = .number(Double(valCount))
                info["from_cache"] = .bool(r.fromCache)
                info["cache_file"] = r.cacheFile.map { .string($0) } ?? .null
                info["resize"] = .string(r.resize.rawValue)
                info["skipped"] = .number(Double(r.skipped.count))
                info["threads"] = .number(Double(threads ?? ImageFolder.defaultThreads))
            } else {
                (train, test) = try DatasetLoader.loadRaw(source)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let images = train.count + valCount + (test?.count ?? 0)
            info["train"] = .number(Double(train.count)); info["test"] = .number(Double(test?.count ?? 0))
            info["shape"] = .array([train.height, train.width, train.channels].map { .number(Double($0)) })
            info["classes"] = .array((train.classNames ?? (0..<train.classCount).map { "\($0)" }).map { .string($0) })
            info["seconds"] = .number(seconds); info["images_per_second"] = .number(Double(images) / max(seconds, 1e-9))
            if json { print(JSONValue.object(info).prettyText()); return }
            print("\(source): \(images) images (\(train.count) train\(valCount > 0 ? " + \(valCount) val" : "") + \(test?.count ?? 0) test), "
                  + "\(train.height)x\(train.width)x\(train.channels), \(train.classCount) classes")
            print(String(format: "loaded in %.3f s (%.0f images/s)", seconds, Double(images) / max(seconds, 1e-9))
                  + (info["from_cache"].map { $0 == .bool(true) ? " from the cache" : " decoded" } ?? ""))
            if case .string(let f)? = info["cache_file"] { print("cache: \(f)") }
        } catch let e as ValidationError { throw e } catch { throw fail(error) }
    }
}
