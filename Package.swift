// swift-tools-version:6.1
// akua-driftd: a systemd-native daemon that watches Akua machines for configuration drift.
import PackageDescription

/// Strict settings for our own targets (Swift 6 language mode is the default for tools 6.x).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// Build stamp for `akua-driftd --version`: the Makefile's release build sets AKUA_BUILD_REVISION, AKUA_BUILD_DATE
/// and AKUA_BUILD_SWIFT; they become C defines of CBuildInfo only (a plain `swift build` leaves them empty).
let buildStamp: [CSetting] = ["AKUA_BUILD_REVISION", "AKUA_BUILD_DATE", "AKUA_BUILD_SWIFT"].compactMap { key in
    guard let value = Context.environment[key], !value.isEmpty else { return nil }
    return .define(key, to: "\"" + value.filter { $0 != "\\" && $0 != "\"" } + "\"")
}

let package = Package(
    name: "akua-driftd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "akua-driftd", targets: ["akua-driftd"]),
        .executable(name: "akua-sim", targets: ["akua-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.25.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.10.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // libsystemd (sd-daemon, sd-journal) through a [system] module map; Linux only.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // The build stamp (git revision, build date, Swift version) as C string constants; see `buildStamp`.
        .target(name: "CBuildInfo", cSettings: buildStamp),
        // Pure core: durations, schedule math, idempotency keys, transitions, retry policies. No I/O.
        .target(
            name: "DriftCore",
            dependencies: [
                "CBuildInfo",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        // The TOML config file: parsing, validation, FILE:LINE: key: diagnostics.
        .target(
            name: "DriftConfig",
            dependencies: ["DriftCore", "TOMLKit", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: strict
        ),
        // HTTPS_PROXY/HTTP_PROXY/NO_PROXY from the environment, shared by the API client and the webhooks.
        .target(
            name: "DriftProxy",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: strict
        ),
        // Client of Akua's machines and drift report API.
        .target(
            name: "AkuaAPI",
            dependencies: [
                "DriftCore", "DriftProxy",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The local Akua API simulator (used by akua-sim, the demo and the tests).
        .target(
            name: "AkuaSimulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // SQLite state: machines, transition log, webhook outbox.
        .target(
            name: "DriftStore",
            dependencies: ["DriftCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        // journald log handler and sd_notify.
        .target(
            name: "DriftSystemd",
            dependencies: [
                .target(name: "CSystemd", condition: .when(platforms: [.linux])),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Standard Webhooks signing and durable delivery.
        .target(
            name: "DriftWebhooks",
            dependencies: [
                "DriftCore", "DriftStore", "DriftProxy",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // A loopback HTTP server for webhook deliveries: the demo's receiver, the benchmark's and the tests'.
        .target(
            name: "WebhookReceiver",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Prometheus metrics: the registry, the metric names, /proc process metrics and the HTTP listener.
        .target(
            name: "DriftMetrics",
            dependencies: [
                "DriftCore",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The engine: Dispatch timers, checks, persistence, transitions, reload, systemd integration.
        .target(
            name: "DriftDaemon",
            dependencies: [
                "DriftCore", "DriftConfig", "AkuaAPI", "DriftStore", "DriftSystemd", "DriftWebhooks", "DriftProxy", "DriftMetrics",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "akua-driftd",
            dependencies: [
                "DriftDaemon", "AkuaSimulator", "WebhookReceiver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "akua-sim",
            dependencies: [
                "AkuaSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks (`make bench`, `make bench-smoke`): fleet harness around akua-sim and akua-driftd, the
        // in-process engine lag probe and micro-benchmarks of the hot paths.
        .executableTarget(
            name: "drift-bench",
            dependencies: [
                "DriftDaemon", "DriftConfig", "DriftCore", "DriftStore", "DriftWebhooks", "DriftSystemd", "AkuaAPI",
                "AkuaSimulator", "WebhookReceiver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "DriftCoreTests", dependencies: ["DriftCore", "DriftTestSupport"]),
        .testTarget(name: "DriftConfigTests", dependencies: ["DriftConfig"]),
        .testTarget(name: "AkuaSimulatorTests", dependencies: [
            "AkuaSimulator", .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .testTarget(name: "AkuaAPITests", dependencies: ["AkuaAPI", "DriftProxy", "AkuaSimulator", "DriftTestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DriftStoreTests", dependencies: ["DriftStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "DriftSystemdTests", dependencies: ["DriftSystemd", .product(name: "Logging", package: "swift-log")]),
        // Shared by the integration suites: child processes, bounded waits, a recording webhook receiver.
        .target(
            name: "DriftTestSupport",
            dependencies: [
                "DriftWebhooks", "WebhookReceiver",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        // The webhook dispatcher, signer and payload against real SQLite files and a loopback receiver.
        .testTarget(name: "DriftWebhooksTests", dependencies: [
            "DriftWebhooks", "DriftDaemon", "DriftConfig", "DriftStore", "DriftCore", "DriftTestSupport", "WebhookReceiver",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "DriftDaemonTests", dependencies: [
            "DriftDaemon", "DriftMetrics", "DriftConfig", "AkuaSimulator", "DriftSystemd", "DriftStore", "DriftWebhooks", "DriftCore", "DriftTestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ReliabilityTests", dependencies: ["DriftDaemon", "AkuaSimulator", "DriftStore", "DriftWebhooks", "DriftConfig", "DriftCore", "AkuaAPI", "DriftTestSupport", .product(name: "Logging", package: "swift-log")]),
    ]
)
