// swift-tools-version:6.0
import PackageDescription

/// The settings every Swift target shares: one place to raise the language mode or enable a feature.
let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Stelling",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex
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
        // hiredis 0.14 (blocking API) for the cluster's Redis; only StellingCluster's Redis/ files use it.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // libev and libuv, for libwebsockets' event-library plugins (`event_loop`); libwebsockets-dev brings both.
        .systemLibrary(
            name: "CEventLibs",
            providers: [.apt(["libev-dev", "libuv1-dev"])]
        ),
        .target(name: "StellingCore", swiftSettings: swiftSettings),
        .target(
            name: "StellingAnalysis",
            dependencies: ["StellingCore"],
            // Numeric loops: optimised in debug builds too, so the exports of a large event in the
            // tests (and a debug server) do not spend seconds on the analysis.
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "StellingStore",
            dependencies: [
                "StellingCore",
                "StellingAnalysis",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one libwebsockets layer: the only target that depends on CWebSockets, so every
        // `lws_` call lives here. The service loop, the HTTP/WebSocket server and the client pool.
        .target(
            name: "StellingLWS",
            dependencies: [
                "CWebSockets",
                "CEventLibs",
                "StellingCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StellingServer",
            dependencies: [
                "StellingCore",
                "StellingStore",
                "StellingLWS",
                "StellingCluster",
                "CQRencode",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "stelling",
            dependencies: [
                "StellingCore",
                "StellingServer",
                "StellingStore",
                "StellingLoad",
                "StellingLWS",
                "StellingCluster",
                "StellingAnalysis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The cluster: the Redis client layer (Redis/, the one target that depends on CHiredis) and replication.
        .target(
            name: "StellingCluster",
            dependencies: ["CHiredis", "StellingCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(name: "StellingLoad", dependencies: ["StellingLWS", "StellingCore"], swiftSettings: swiftSettings),
        // What the tests share (like HummingbirdTesting): the seeded generator, the echo server, the room harness,
        // the live event and its clients, the raw WebSocket client, the `stelling` child process.
        .target(
            name: "StellingTesting",
            dependencies: ["StellingServer", "StellingStore", "StellingLWS", "StellingCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "StellingCoreTests", dependencies: ["StellingCore", "StellingTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "StellingClusterTests", dependencies: ["StellingCluster", "StellingTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "StellingLWSTests", dependencies: ["StellingLWS", "StellingCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StellingAnalysisTests",
            dependencies: ["StellingAnalysis", "StellingCore"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StellingServerTests",
            dependencies: ["StellingServer", "StellingLWS", "StellingCore", "StellingStore", "StellingLoad", "StellingTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "StellingStoreTests", dependencies: ["StellingStore", "StellingCore", "StellingTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StellingLoadTests",
            dependencies: [
                "StellingLoad", "StellingLWS", "StellingServer", "StellingStore", "StellingCore", "StellingTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
