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
        .library(name: "TinyForgeDeploy", targets: ["TinyForgeDeploy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "TinyForgeSpec", swiftSettings: fast),
        .target(name: "TinyForgeHardware", dependencies: ["TinyForgeSpec"], swiftSettings: fast),
        .target(name: "TinyForgeDeploy", dependencies: ["TinyForgeSpec"], exclude: ["README.md"], swiftSettings: fast),
        .executableTarget(
            name: "tinyforge",
            dependencies: [
                "TinyForgeSpec", "TinyForgeHardware",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "TinyForgeSpecTests", dependencies: ["TinyForgeSpec"]),
        .testTarget(name: "TinyForgeHardwareTests", dependencies: ["TinyForgeHardware", "TinyForgeSpec"]),
        .testTarget(name: "TinyForgeDeployTests", dependencies: ["TinyForgeDeploy", "TinyForgeSpec"]),
    ],
    swiftLanguageModes: [.v5]
)
