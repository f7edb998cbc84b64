// swift-tools-version:6.0
// The libFuzzer harness for Stelling's core, kept out of the main package so that `swift build`
// and `make test` never need the fuzzer runtime. `make fuzz` builds and runs it (docs/FUZZING.md).
// Sources/StellingCore is a symbolic link to the main package's core and
// Sources/stelling-fuzz/FuzzOracle.swift one to the checks the Swift Testing fuzz tests use,
// Sources/stelling-fuzz/SeededRandom.swift one to StellingTesting's generator.
import PackageDescription

let package = Package(
    name: "StellingFuzz",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stelling-fuzz", targets: ["stelling-fuzz"]),
    ],
    targets: [
        .target(name: "StellingCore"),
        .target(name: "CFuzzMain"),
        .executableTarget(name: "stelling-fuzz", dependencies: ["StellingCore", "CFuzzMain"]),
    ]
)
