// swift-tools-version: 6.0
// seatcast: a real-time seat broadcaster. libwebsockets for WebSocket/HTTP, libpq for PostgreSQL.
import PackageDescription

let package = Package(
    name: "seatcast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "seatcast", targets: ["seatcast"]),
        .library(name: "SeatcastTesting", targets: ["SeatcastTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibWebSockets",
            pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "SeatcastCore"),
        // SQL/: the schema as .sql files (migrations/, functions/), loaded through Bundle.module.
        .target(name: "SeatcastPostgres", dependencies: ["SeatcastCore", "CLibPQ"], resources: [.copy("SQL")]),
        .target(name: "SeatcastServer", dependencies: ["SeatcastCore", "CLibWebSockets"]),
        .target(name: "SeatcastApp", dependencies: ["SeatcastCore", "SeatcastPostgres", "SeatcastServer"]),
        .target(name: "SeatcastClient", dependencies: ["SeatcastCore", "CLibWebSockets"]),
        .target(name: "SeatcastTesting", dependencies: ["SeatcastCore", "SeatcastApp", "SeatcastPostgres"]),
        .executableTarget(
            name: "seatcast",
            dependencies: [
                "SeatcastApp", "SeatcastClient", "SeatcastCore", "SeatcastPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SeatcastCoreTests", dependencies: ["SeatcastCore"]),
        .testTarget(name: "SeatcastPostgresTests", dependencies: ["SeatcastPostgres", "SeatcastTesting"]),
        .testTarget(name: "SeatcastServerTests", dependencies: ["SeatcastServer", "SeatcastApp", "SeatcastTesting"]),
        .testTarget(name: "SeatcastAppTests", dependencies: ["SeatcastApp", "SeatcastTesting"]),
        .testTarget(name: "SeatcastClientTests", dependencies: ["SeatcastClient", "SeatcastTesting"]),
    ],
    swiftLanguageModes: [.v6]
)
