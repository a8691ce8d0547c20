// swift-tools-version: 6.1
// Tessera: sketch-and-precondition solvers for proxies of the attention matrix,
// on a tiled-matrix DAG runtime (Dispatch + hwloc + OpenBLAS). See README.md.
import PackageDescription
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tessera", targets: ["Tessera"]),
        .library(name: "TesseraKernels", targets: ["TesseraKernels"]),
        .library(name: "TesseraIO", targets: ["TesseraIO"]),
        .executable(name: "tessera", targets: ["tessera"]),
        // libTesseraC.so: the C interface (Sources/CTessera/include/tessera.h), for C programs
        // and the Python package.
        .library(name: "TesseraC", type: .dynamic, targets: ["TesseraC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHwloc", path: "Sources/CHwloc",
                       providers: [.apt(["libhwloc-dev"])]),
        .target(name: "CStopSignals"),
        .target(name: "TesseraCore", swiftSettings: strict),
        .target(name: "CVectorMath", linkerSettings: [.linkedLibrary("m")]),
        .target(name: "TesseraKernels", dependencies: ["TesseraCore", "COpenBLAS", "CVectorMath"], swiftSettings: strict),
        .target(name: "TesseraPlatform", dependencies: ["TesseraCore", "CHwloc"], swiftSettings: strict),
        .target(name: "TesseraRuntime", dependencies: ["TesseraCore", "TesseraPlatform"], swiftSettings: strict),
        .target(name: "TesseraTiles",
                dependencies: ["TesseraCore", "TesseraKernels", "TesseraPlatform", "TesseraRuntime"],
                swiftSettings: strict),
        .target(name: "TesseraSketch",
                dependencies: ["TesseraCore", "TesseraKernels", "TesseraTiles"],
                swiftSettings: strict),
        .target(name: "TesseraSolvers",
                dependencies: ["TesseraCore", "TesseraKernels", "TesseraPlatform", "TesseraRuntime", "TesseraTiles", "TesseraSketch"],
                swiftSettings: strict),
        .target(name: "TesseraIO", dependencies: ["TesseraCore", "TesseraKernels", "TesseraTiles"], swiftSettings: strict),
        .target(name: "Tessera",
                dependencies: ["TesseraCore", "TesseraKernels", "TesseraPlatform", "TesseraRuntime", "TesseraTiles",
                               "TesseraSketch", "TesseraSolvers"],
                swiftSettings: strict),
        .target(name: "CTessera"),
        .target(name: "TesseraC", dependencies: ["CTessera", "Tessera"], swiftSettings: strict),
        .executableTarget(name: "tessera",
                          dependencies: ["Tessera", "TesseraIO", "CStopSignals"] + mpiCLIDependencies + [
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log")],
                          swiftSettings: strict + mpiCLISettings),
        // Shared references and generators for the test targets (a library, not a test bundle).
        .target(name: "TesseraTestSupport", dependencies: ["TesseraCore", "TesseraKernels", "TesseraTiles", "COpenBLAS"], path: "Tests/TesseraTestSupport"),
        .testTarget(name: "TesseraCoreTests", dependencies: ["TesseraCore"]),
        .testTarget(name: "TesseraKernelsTests", dependencies: ["TesseraKernels", "TesseraCore", "CVectorMath", "TesseraTestSupport"]),
        .testTarget(name: "TesseraPlatformTests", dependencies: ["TesseraPlatform", "TesseraCore"]),
        .testTarget(name: "TesseraRuntimeTests", dependencies: ["TesseraRuntime", "TesseraPlatform", "TesseraCore"]),
        .testTarget(name: "TesseraTilesTests", dependencies: ["Tessera", "TesseraTiles", "TesseraTestSupport"]),
        .testTarget(name: "TesseraSketchTests", dependencies: ["TesseraSketch", "Tessera"]),
        .testTarget(name: "TesseraSolversTests", dependencies: ["Tessera", "TesseraSolvers", "TesseraIO", "TesseraTestSupport"]),
        .testTarget(name: "TesseraIOTests", dependencies: ["TesseraIO", "Tessera"]),
        .testTarget(name: "TesseraCLITests", dependencies: ["TesseraIO", "Tessera", "tessera"]),
    ],
    swiftLanguageModes: [.v6]
)

// The distributed layer (Open MPI), only when MPI's header is installed (Debian's libopenmpi-dev;
// scripts/install-deps.sh installs it) or TESSERA_MPI=1; TESSERA_MPI=0 leaves it out. Without it
// the package builds as before and `tessera` runs single-process (docs/DISTRIBUTED.md).
var mpiCLIDependencies: [Target.Dependency] {
    mpiEnabled ? ["TesseraDistributed"] : []
}
// `#if TESSERA_MPI` in the CLI (a define, not `canImport`: a module left in .build by an earlier
// configuration must not switch the distributed code on without its C module).
var mpiCLISettings: [SwiftSetting] {
    mpiEnabled ? [.define("TESSERA_MPI")] : []
}
var mpiEnabled: Bool {
    switch Context.environment["TESSERA_MPI"] {
    case "0": return false
    case "1": return true
    default: return FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h")
        || FileManager.default.fileExists(atPath: "/usr/lib/aarch64-linux-gnu/openmpi/include/mpi.h")
    }
}
if mpiEnabled {
    package.targets.append(contentsOf: [
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "TesseraDistributed", dependencies: ["TesseraCore", "TesseraTiles", "CMPI"], swiftSettings: strict),
    ])
}

// The libFuzzer target for the .npy reader, only when TESSERA_FUZZ=1 (scripts/fuzz.sh): it has
// no main of its own (libFuzzer provides it), so a normal build must not link it.
if Context.environment["TESSERA_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "tessera-fuzz-npy", dependencies: ["TesseraIO", "TesseraCore"],
                                             path: "Fuzz/NpyFuzzer",
                                             swiftSettings: strict))
}
