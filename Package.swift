// swift-tools-version:6.0
// PodKV: a long-context LLM inference engine with PoD KV-cache compression.
//
// Layering (lower targets never import higher ones):
//   PodKVKernels   tensor types, quant blocks, SIMD kernels, thread pool   (no dependencies)
//   PodKVGGUF      GGUF file format reader                                  (kernels: tensor types)
//   PodKVTokenizer byte-level BPE, SentencePiece, chat templates            (GGUF metadata)
//   PodKVModel     hyperparameters, weights, forward pass, KV-cache contract
//   PodKVCache     KV-cache policies (full, window, streaming-llm, pod, ...), one file each
//   PodKV          engine: model store, sampling, sessions, generation API
//   PodKVEval      evaluation harness, calibration, plots (PNG)
//   podkv          the command line tool
import PackageDescription
import Foundation

// Kernels are compiled for the building CPU (like llama.cpp's GGML_NATIVE), so AVX-512 / F16C are used
// where present. Set PODKV_TARGET_CPU (e.g. "x86-64-v3") to build a portable binary instead.
let targetCPU = ProcessInfo.processInfo.environment["PODKV_TARGET_CPU"] ?? "native"
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU])]
// The hot targets (kernels, forward pass, cache attention) are optimised even in debug builds, so the
// test suite runs real models in a debug build at close to release speed.
let fastFlags: [SwiftSetting] = cpuFlags + [
    .unsafeFlags(["-O"], .when(configuration: .debug)),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "PodKV",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "PodKV", targets: ["PodKV"]),
        .executable(name: "podkv", targets: ["podkv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        .target(name: "PodKVKernels", swiftSettings: fastFlags),
        .target(name: "PodKVGGUF", dependencies: ["PodKVKernels"], swiftSettings: cpuFlags),
        .target(name: "PodKVTokenizer", dependencies: ["PodKVGGUF"], swiftSettings: cpuFlags),
        .target(
            name: "PodKVModel",
            dependencies: ["PodKVKernels", "PodKVGGUF"],
            swiftSettings: fastFlags),
        .target(
            name: "PodKVCache",
            dependencies: ["PodKVKernels", "PodKVModel"],
            swiftSettings: fastFlags),
        .target(
            name: "PodKV",
            dependencies: [
                "PodKVKernels", "PodKVGGUF", "PodKVTokenizer", "PodKVModel", "PodKVCache",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: cpuFlags),
        .target(name: "PodKVEval", dependencies: ["PodKV"], swiftSettings: cpuFlags),
        // OpenAI-compatible HTTP server: the only target that pulls in networking.
        .target(
            name: "PodKVServer",
            dependencies: ["PodKV", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: cpuFlags),
        .executableTarget(
            name: "podkv",
            dependencies: [
                "PodKV", "PodKVEval", "PodKVServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: cpuFlags),
        // Helpers shared by the test targets: tiny random GGUF models, locating real models and shared data.
        .target(name: "PodKVTestSupport", dependencies: ["PodKV", "PodKVGGUF", "PodKVModel"], swiftSettings: cpuFlags),
        .testTarget(name: "PodKVKernelsTests", dependencies: ["PodKVKernels"], swiftSettings: cpuFlags),
        .testTarget(name: "PodKVGGUFTests", dependencies: ["PodKVGGUF", "PodKVTestSupport"], swiftSettings: cpuFlags),
        .testTarget(
            name: "PodKVTokenizerTests", dependencies: ["PodKVTestSupport", "PodKVTokenizer", "PodKV"], swiftSettings: cpuFlags),
        .testTarget(name: "PodKVModelTests", dependencies: ["PodKVTestSupport", "PodKVModel", "PodKV"], swiftSettings: cpuFlags),
        .testTarget(name: "PodKVCacheTests", dependencies: ["PodKVTestSupport", "PodKVCache", "PodKV"], swiftSettings: cpuFlags),
        .testTarget(name: "PodKVEvalTests", dependencies: ["PodKVTestSupport", "PodKVEval"], swiftSettings: cpuFlags),
        .testTarget(name: "PodKVTests", dependencies: ["PodKVTestSupport", "PodKV"], swiftSettings: cpuFlags),
        .testTarget(
            name: "PodKVServerTests",
            dependencies: [
                "PodKVTestSupport", "PodKVServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: cpuFlags),
    ]
)
