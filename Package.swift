// swift-tools-version:6.0
import PackageDescription

/// Kernels need AVX2 + FMA to vectorize (`SIMD8<Float>.addingProduct` is scalar `fmaf` without them)
/// and run hundreds of times slower unoptimized, so the engine is built with `-O` even in debug.
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"]),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

/// The AVX-512 micro-kernel of graft's own GEMM: only this module is compiled for AVX-512, and it
/// runs only after a run-time check (it computes the same bits as the AVX2 kernel).
let wideKernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mavx512f"]),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "graft",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "graft", targets: ["graft"]),
        .executable(name: "graft-bench", targets: ["graft-bench"]),
        .executable(name: "graft-fuzz", targets: ["graft-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The ONNX importer and exporter (Sources/GraftFormats/ONNX/onnx.pb.swift is generated once and committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C libraries: one system-library target each.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),

        // The layers of the design, dependencies pointing one way.
        .target(name: "GraftWideKernels", swiftSettings: wideKernelSettings),
        // The bfloat16 micro-kernel (`set precision=bf16`): C, for AVX-512 BF16's intrinsics, by function attribute.
        .target(name: "CGraftKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "GraftTensor", dependencies: ["CBLAS", "GraftWideKernels", "CGraftKernels"], swiftSettings: kernelSettings),
        .target(name: "GraftNN", dependencies: ["GraftTensor"], swiftSettings: kernelSettings),
        .target(name: "GraftTraining", dependencies: ["GraftNN", "GraftData", "GraftTensor"], swiftSettings: kernelSettings),
        .target(name: "GraftFormats", dependencies: ["GraftTensor", "CZlib", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "GraftModels", dependencies: ["GraftNN", "GraftTraining", "GraftFormats", "GraftData", "GraftTensor"]),
        .target(name: "GraftData", dependencies: ["GraftTensor", "GraftFormats", "CPNG", "CJPEG"], swiftSettings: kernelSettings),
        .target(name: "GraftShell", dependencies: ["GraftModels", "GraftTraining", "GraftNN", "GraftData", "GraftFormats", "GraftTensor", "CLibEdit"]),
        .testTarget(name: "GraftShellTests", dependencies: ["GraftShell", "GraftTraining"]),
        .executableTarget(
            name: "graft",
            dependencies: ["GraftShell", "GraftFormats", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // The fuzz targets (scripts/fuzz.sh builds them with libFuzzer and AddressSanitizer).
        .systemLibrary(name: "CFuzzer", path: "Sources/CFuzzer"),
        .executableTarget(name: "graft-fuzz", dependencies: ["CFuzzer", "GraftShell", "GraftModels", "GraftData", "GraftFormats", "GraftTensor"], path: "Fuzz",
                          exclude: ["corpus", "dict", "make_seeds.py"]),

        .executableTarget(name: "graft-bench", dependencies: ["GraftTensor", "GraftData", "GraftNN", "GraftTraining", "GraftModels"], path: "Benchmarks/graft-bench",
                          swiftSettings: kernelSettings),

        // Fixtures live in Tests/Fixtures/ beside the scripts that made them; tests find them by path.
        .testTarget(name: "GraftTensorTests", dependencies: ["GraftTensor"]),
        .testTarget(name: "GraftDataTests", dependencies: ["GraftData"]),
        .testTarget(name: "GraftNNTests", dependencies: ["GraftNN", "GraftTraining", "GraftModels"]),
        // The trainer, optimizers, schedules and evaluation (GraftTraining).
        .testTarget(name: "GraftTrainingTests", dependencies: ["GraftTraining", "GraftNN", "GraftData", "GraftModels"]),
        .testTarget(name: "GraftFormatsTests", dependencies: ["GraftFormats"]),
        // Architectures, importers and exporters (GraftModels), with the readers under them.
        .testTarget(name: "GraftModelsTests", dependencies: ["GraftModels", "GraftFormats", "GraftNN", "GraftTraining"]),
    ]
)
