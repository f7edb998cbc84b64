// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Stelling",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stelling", targets: ["stelling"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CWebSockets",
            pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev"])]
        ),
        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // libev and libuv, for libwebsockets' event-library plugins (`event_loop`); libwebsockets-dev brings both.
        .systemLibrary(
            name: "CEventLibs",
            providers: [.apt(["libev-dev", "libuv1-dev"])]
        ),
        .target(name: "StellingCore"),
        .target(
            name: "StellingAnalysis",
            dependencies: ["StellingCore"],
            // Numeric loops: optimised in debug builds too, so the exports of a large event in the
            // tests (and a debug server) do not spend seconds on the analysis.
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "StellingStore",
            dependencies: [
                "StellingCore",
                "StellingAnalysis",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "StellingServer",
            dependencies: [
                "StellingCore",
                "StellingStore",
                "CWebSockets",
                "CQRencode",
                "CEventLibs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "stelling",
            dependencies: [
                "StellingCore",
                "StellingServer",
                "StellingStore",
                "StellingLoad",
                "StellingAnalysis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "StellingLoad", dependencies: ["CWebSockets", "StellingCore"]),
        .testTarget(name: "StellingCoreTests", dependencies: ["StellingCore"]),
        .testTarget(
            name: "StellingAnalysisTests",
            dependencies: ["StellingAnalysis", "StellingCore"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "StellingServerTests", dependencies: ["StellingServer", "StellingCore", "StellingStore", "StellingLoad"]),
        .testTarget(name: "StellingStoreTests", dependencies: ["StellingStore", "StellingCore"]),
        .testTarget(
            name: "StellingLoadTests",
            dependencies: [
                "StellingLoad", "CWebSockets", "StellingServer", "StellingStore", "StellingCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
