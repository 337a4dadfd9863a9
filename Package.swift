// swift-tools-version:6.0
import PackageDescription

/// Kernels and hot loops are useless without optimisation: SIMD FMA otherwise turns into
/// library calls (~100x slower). Release builds of the numeric targets get `-Ounchecked`;
/// the CPU target (`-target-cpu haswell` or `native`) is passed on the command line, see README.
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "TinyForge",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tinyforge", targets: ["tinyforge"]),
        .library(name: "TinyForgeSpec", targets: ["TinyForgeSpec"]),
        .library(name: "TinyForgeHardware", targets: ["TinyForgeHardware"]),
        .library(name: "TinyForgeData", targets: ["TinyForgeData"]),
        .library(name: "TinyForgeDeploy", targets: ["TinyForgeDeploy"]),
        .library(name: "TinyForgeEngine", targets: ["TinyForgeEngine"]),
        .library(name: "TinyForgeTraining", targets: ["TinyForgeTraining"]),
        .library(name: "TinyForgeSearch", targets: ["TinyForgeSearch"]),
        .library(name: "TinyForgeLLM", targets: ["TinyForgeLLM"]),
        .library(name: "TinyForgeExplain", targets: ["TinyForgeExplain"]),
        .library(name: "TinyForgePipeline", targets: ["TinyForgePipeline"]),
        .library(name: "TinyForgeLaunch", targets: ["TinyForgeLaunch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "TinyForgeSpec", exclude: ["README.md"], swiftSettings: fast),
        /// Linux calls Swift cannot import (prctl is variadic): the workers' parent-death signal.
        .target(name: "CTinyForgeSystem"),
        .target(name: "TinyForgeHardware", dependencies: ["TinyForgeSpec"], exclude: ["README.md"], swiftSettings: fast),
        /// The system's libpng and libjpeg-turbo (PNG/JPEG decoding of `folder:` datasets).
        .systemLibrary(
            name: "CImageCodecs", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev", "libjpeg62-turbo-dev"])]),
        .target(
            name: "TinyForgeData",
            dependencies: ["TinyForgeSpec", "CImageCodecs", .product(name: "CompressNIO", package: "compress-nio")],
            swiftSettings: fast),
        .target(
            name: "TinyForgeDeploy", dependencies: ["TinyForgeSpec", "TinyForgeHardware"], exclude: ["README.md"],
            swiftSettings: fast),
        .target(name: "TinyForgeEngine", dependencies: ["TinyForgeSpec"], swiftSettings: fast),
        .target(
            name: "TinyForgeTraining",
            dependencies: ["TinyForgeSpec", "TinyForgeHardware", "TinyForgeEngine", "TinyForgeData"],
            swiftSettings: fast),
        .target(
            name: "TinyForgeSearch",
            dependencies: ["TinyForgeSpec", "TinyForgeHardware", "TinyForgeLLM", "TinyForgeExplain", "CTinyForgeSystem",
                           "TinyForgeLaunch", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "PostgresNIO", package: "postgres-nio")],
            exclude: ["README.md"], swiftSettings: fast),
        .target(name: "TinyForgeLLM", dependencies: ["TinyForgeSpec", "TinyForgeHardware", "TinyForgeExplain"], exclude: ["README.md"]),
        .target(name: "TinyForgeExplain", dependencies: ["TinyForgeSpec", "TinyForgeHardware"], swiftSettings: fast),
        /// Trained network → int8 model (BN folding, calibration on the training split), int8
        /// evaluation, export bundles, the device check and the finish step's training: the glue between
        /// Training, Search and Deploy.
        .target(
            name: "TinyForgePipeline",
            dependencies: ["TinyForgeSpec", "TinyForgeHardware", "TinyForgeEngine", "TinyForgeData", "TinyForgeTraining",
                           "TinyForgeDeploy", "TinyForgeSearch", "TinyForgeLLM"],
            swiftSettings: fast),
        /// Starting workers on schedulers: Slurm job arrays (sbatch/squeue/sacct/scancel) and the
        /// Kubernetes Job manifest. Foundation only, so it builds and tests in seconds.
        .target(name: "TinyForgeLaunch", exclude: ["README.md"]),
        .executableTarget(
            name: "tinyforge-engine-bench", dependencies: ["TinyForgeEngine", "TinyForgeSpec", "TinyForgeHardware", "TinyForgeTraining"],
            path: "bench/engine", exclude: ["torch_reference.py"], swiftSettings: fast),
        .executableTarget(
            name: "tinyforge",
            dependencies: [
                "TinyForgeSpec", "TinyForgeHardware", "TinyForgeEngine", "TinyForgeData", "TinyForgeTraining", "TinyForgeSearch",
                "TinyForgeLLM", "TinyForgeExplain", "TinyForgeDeploy", "TinyForgePipeline", "TinyForgeLaunch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "tinyforge-profile-bench", dependencies: ["TinyForgeSpec", "TinyForgeHardware"],
            path: "bench/profile", swiftSettings: fast),
        .testTarget(name: "TinyForgeSpecTests", dependencies: ["TinyForgeSpec"]),
        .testTarget(name: "TinyForgeLaunchTests", dependencies: ["TinyForgeLaunch"]),
        .testTarget(
            name: "TinyForgeTrainingTests",
            dependencies: ["TinyForgeTraining", "TinyForgeSpec", "TinyForgeHardware", "TinyForgeEngine", "TinyForgeData"]),
        .testTarget(name: "TinyForgeEngineTests", dependencies: ["TinyForgeEngine", "TinyForgeSpec"]),
        .testTarget(name: "TinyForgeHardwareTests", dependencies: ["TinyForgeHardware", "TinyForgeSpec"]),
        .testTarget(
            name: "TinyForgeDataTests",
            dependencies: ["TinyForgeData", "TinyForgeSpec", .product(name: "CompressNIO", package: "compress-nio")]),
        .testTarget(
            name: "TinyForgeExplainTests",
            dependencies: ["TinyForgeExplain", "TinyForgeSpec", "TinyForgeHardware",
                           .product(name: "CompressNIO", package: "compress-nio")]),
        .testTarget(
            name: "TinyForgeDeployTests", dependencies: ["TinyForgeDeploy", "TinyForgeSpec", "TinyForgeHardware"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "TinyForgeSearchTests",
            dependencies: ["TinyForgeSearch", "TinyForgeLLM", "TinyForgeSpec", "TinyForgeHardware", "TinyForgeLaunch",
                           .product(name: "GRDB", package: "GRDB.swift"),
                           "TinyForgePipeline", "TinyForgeTraining", "TinyForgeData"]),
        .testTarget(
            name: "TinyForgeLLMTests", dependencies: ["TinyForgeLLM", "TinyForgeSpec", "TinyForgeHardware", "TinyForgeExplain", "TinyForgeSearch"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "TinyForgePipelineTests",
            dependencies: ["TinyForgePipeline", "TinyForgeDeploy", "TinyForgeTraining", "TinyForgeEngine", "TinyForgeData",
                           "TinyForgeHardware", "TinyForgeSpec"]),
    ],
    swiftLanguageModes: [.v5]
)
