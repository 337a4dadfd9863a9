/// Published, measured MCU inference latencies, kept as data so the cost model's
/// cycles-per-MAC constants can be checked against them. See docs/latency-calibration.md for
/// the table, the sources, and what these points can and cannot support.
///
/// Rules for this file: only numbers that appear in a cited source. MLPerf Tiny results are
/// published as throughput (inferences/s); `measuredMs` is 1000 / throughput, rounded to
/// 0.01 ms. A MAC count that no source states is `nil`; one we derived ourselves says so in
/// `macsSource`. A clock the source does not state is flagged in `note`.
public struct LatencyCalibrationPoint: Hashable, Sendable, Codable {
    public let model: String
    /// Multiply-accumulates per inference (conv + dense), or nil when no source gives it.
    public let macs: Int?
    /// Where `macs` comes from ("published: …" or "derived: …").
    public let macsSource: String
    public let board: String
    public let core: String
    public let clockMHz: Double
    /// Inference runtime, e.g. "TFLM (reference kernels)", "TFLM + CMSIS-NN", "X-CUBE-AI 7.3.0".
    public let runtime: String
    public let measuredMs: Double
    /// Citation: repository + path or URL, and the table it is in.
    public let source: String
    /// Caveats (assumed clock, unclear kernel set, derived MACs).
    public let note: String

    /// Cycles per MAC implied by the measurement: ms × MHz × 1000 / MACs. Includes every
    /// non-MAC cost of the run (element-wise ops, requantisation, memory stalls, interpreter
    /// overhead), so it is an *effective* figure for that model/runtime/board, not a kernel
    /// constant.
    public var impliedCyclesPerMAC: Double? {
        guard let macs, macs > 0 else { return nil }
        return measuredMs * clockMHz * 1000 / Double(macs)
    }
}

extension LatencyCalibrationPoint {
    private static let tinyEngineREADME =
        "github.com/mit-han-lab/tinyengine README.md, 'Measured Results' latency table (STM32H743); "
        + "MACs from github.com/mit-han-lab/mcunet README.md model zoo"
    private static let h743Note =
        "clock not stated in the source; STM32H743 maximum 480 MHz assumed"
    private static let mlperf05 =
        "github.com/mlcommons/tiny_results_v0.5 closed/reference/results/Nucleo-L4R5ZI/<task>/performance/results.txt "
        + "(median throughput); system: closed/reference/systems/Nucleo_L4R5ZI_System_Description.json"
    private static let mlperf11Krai =
        "github.com/mlcommons/tiny_results_v1.1 closed/Krai/results/README.md"
    private static let resnet8MACs =
        "derived: 12,501,632 counted by us from the MLPerf Tiny ResNet-8 Keras definition "
        + "(mlcommons/tiny benchmark/training/image_classification/keras_model.py) with 16 base filters; "
        + "the current file defaults to 26 filters, so the filter count of the benchmarked model is an assumption "
        + "(consistent with ST's 76.9 KiB int8 weights)"
    private static let noMACs = "none found in a source"

    private static func mcunet(_ model: String, _ macs: Int?, _ runtime: String, _ ms: Double,
                               extra: String = "") -> LatencyCalibrationPoint {
        LatencyCalibrationPoint(
            model: model, macs: macs,
            macsSource: macs == nil ? noMACs : "published: mcunet README model zoo",
            board: "STM32H743", core: "Cortex-M7", clockMHz: 480, runtime: runtime, measuredMs: ms,
            source: tinyEngineREADME, note: h743Note + extra)
    }

    private static func tinyEngineRows(_ model: String, _ macs: Int?,
                                       _ ms: (tflm: Double?, cmsis: Double?, xcube: Double, te: Double))
        -> [LatencyCalibrationPoint] {
        var rows: [LatencyCalibrationPoint] = []
        if let t = ms.tflm { rows.append(mcunet(model, macs, "TFLM (reference kernels) @713b6ed", t)) }
        if let c = ms.cmsis { rows.append(mcunet(model, macs, "TFLM + CMSIS-NN @011bf32", c)) }
        rows.append(mcunet(model, macs, "X-CUBE-AI 7.3.0 (balanced)", ms.xcube))
        rows.append(mcunet(model, macs, "TinyEngine @0363956", ms.te))
        return rows
    }

    private static func mlperf(_ model: String, _ macs: Int?, board: String, core: String,
                               mhz: Double, runtime: String, ms: Double, source: String,
                               note: String) -> LatencyCalibrationPoint {
        LatencyCalibrationPoint(
            model: model, macs: macs, macsSource: macs == nil ? noMACs : resnet8MACs,
            board: board, core: core, clockMHz: mhz, runtime: runtime, measuredMs: ms,
            source: source, note: note)
    }

    /// Every point found (see docs/latency-calibration.md for the same table with comments).
    public static let publishedPoints: [LatencyCalibrationPoint] = {
        var p: [LatencyCalibrationPoint] = []
        // MCUNet / TinyEngine, STM32H743 (mcunet-in4 is OOM on TFLM and CMSIS-NN).
        p += tinyEngineRows("mcunet-vww0 (64x64)", 6_000_000, (587, 53, 32, 27))
        p += tinyEngineRows("mcunet-vww1 (80x80)", 11_600_000, (1120, 97, 57, 51))
        p += tinyEngineRows("mcunet-vww2 (144x144)", 55_800_000, (5310, 478, 269, 234))
        p += tinyEngineRows("mcunet-in0 (48x48)", 6_400_000, (586, 51, 35, 25))
        p += tinyEngineRows("mcunet-in1 (96x96)", 12_800_000, (1227, 103, 63, 56))
        p += tinyEngineRows("mcunet-in2 (160x160)", 67_300_000, (6463, 642, 351, 280))
        p += tinyEngineRows("mcunet-in3 (176x176)", 81_800_000, (7821, 770, 414, 336))
        p += tinyEngineRows("mcunet-in4 (160x160)", 125_900_000, (nil, nil, 516, 463))
        p += tinyEngineRows("proxyless-w0.3 (176x176)", 38_300_000, (3801, 380, 205, 176))
        p += tinyEngineRows("mbv2-w0.3 (64x64)", nil, (467, 43, 29, 23))

        // MLPerf Tiny v0.5 reference submission: Nucleo-L4R5ZI, TFLM v2.3.1, mbed-os.
        let refNote = "kernel set not stated (system description lists no software libraries); "
            + "latency = runtime of 100 inferences / 100 (median window)"
        for (task, macs, ms) in [("ResNet-8 CIFAR-10 (IC)", 12_501_632 as Int?, 704.25),
                                 ("MobileNetV1-0.25 VWW 96x96", nil, 600.54),
                                 ("DS-CNN KWS", nil, 181.92)] {
            p.append(mlperf(task, macs, board: "Nucleo-L4R5ZI", core: "Cortex-M4F", mhz: 120,
                            runtime: "TFLM v2.3.1 (MLPerf Tiny reference)", ms: ms, source: mlperf05,
                            note: refNote))
        }

        // MLPerf Tiny v1.1, Krai (closed division); ms = 1000 / throughput.
        let h7a3Note = "clock not stated in the results README; STM32H7A3 maximum 280 MHz assumed"
        let rows: [(String, Int?, String, String, Double, String, Double, String)] = [
            ("ResNet-8 CIFAR-10 (IC)", 12_501_632, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "X-CUBE-AI 7.3.0", 226.91, ""),
            ("DS-CNN KWS", nil, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "X-CUBE-AI 7.3.0", 74.73, ""),
            ("MobileNetV1-0.25 VWW 96x96", nil, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "X-CUBE-AI 7.3.0", 224.92, ""),
            ("ResNet-8 CIFAR-10 (IC)", 12_501_632, "Nucleo-H7A3ZI-Q", "Cortex-M7", 280, "X-CUBE-AI 7.3.0", 53.84, h7a3Note),
            ("DS-CNN KWS", nil, "Nucleo-H7A3ZI-Q", "Cortex-M7", 280, "X-CUBE-AI 7.3.0", 16.76, h7a3Note),
            ("MobileNetV1-0.25 VWW 96x96", nil, "Nucleo-H7A3ZI-Q", "Cortex-M7", 280, "X-CUBE-AI 7.3.0", 50.41, h7a3Note),
            ("ResNet-8 CIFAR-10 (IC)", 12_501_632, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "X-CUBE-AI 8.0.0", 221.98, ""),
            ("DS-CNN KWS", nil, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "X-CUBE-AI 8.0.0", 72.68, ""),
            ("MobileNetV1-0.25 VWW 96x96", nil, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "X-CUBE-AI 8.0.0", 221.14, ""),
            ("ResNet-8 CIFAR-10 (IC)", 12_501_632, "Nucleo-H7A3ZI-Q", "Cortex-M7", 280, "X-CUBE-AI 8.0.0", 54.90, h7a3Note),
            ("DS-CNN KWS", nil, "Nucleo-H7A3ZI-Q", "Cortex-M7", 280, "X-CUBE-AI 8.0.0", 16.40, h7a3Note),
            ("MobileNetV1-0.25 VWW 96x96", nil, "Nucleo-H7A3ZI-Q", "Cortex-M7", 280, "X-CUBE-AI 8.0.0", 50.33, h7a3Note),
            ("ResNet-8 CIFAR-10 (IC)", 12_501_632, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "microTVM + CMSIS-NN", 389.56, ""),
            ("DS-CNN KWS", nil, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "microTVM + CMSIS-NN", 99.81, ""),
            ("MobileNetV1-0.25 VWW 96x96", nil, "Nucleo-L4R5ZI", "Cortex-M4F", 120, "microTVM + CMSIS-NN", 300.84, ""),
        ]
        for r in rows {
            p.append(mlperf(r.0, r.1, board: r.2, core: r.3, mhz: r.4, runtime: r.5, ms: r.6,
                            source: mlperf11Krai, note: "ms = 1000 / published inf./sec" + (r.7.isEmpty ? "" : "; " + r.7)))
        }

        // ST model zoo: ResNet v1 8 (CIFAR-10, int8), STM32Cube.AI 9.1.0, STM32H747I-DISCO.
        p.append(LatencyCalibrationPoint(
            model: "ResNet v1 8 CIFAR-10 (ST model zoo)", macs: 12_501_632, macsSource: resnet8MACs,
            board: "STM32H747I-DISCO", core: "Cortex-M7", clockMHz: 400, runtime: "STM32Cube.AI 9.1.0",
            measuredMs: 28.67,
            source: "github.com/STMicroelectronics/stm32ai-modelzoo image_classification/resnetv1/README.md, "
                + "'Reference MCU inference time based on Cifar 10 dataset'",
            note: "assumed to be the same topology as MLPerf ResNet-8 (same name family, 76.9 KiB weights)"))
        p.append(LatencyCalibrationPoint(
            model: "ResNet v1 32 CIFAR-100 (ST model zoo)", macs: nil, macsSource: noMACs,
            board: "STM32H747I-DISCO", core: "Cortex-M7", clockMHz: 400, runtime: "STM32Cube.AI",
            measuredMs: 177.7,
            source: "github.com/STMicroelectronics/stm32ai-modelzoo image_classification/resnetv1/README.md, "
                + "'Reference MCU inference time based on Cifar 100 dataset'",
            note: "Cube.AI version not given in that table"))
        return p
    }()
}
