// swift-tools-version:6.0
import Foundation
import PackageDescription

// Our own targets are strict: Swift 6 language mode and warnings as errors.
let strict: [SwiftSetting] = [
    .unsafeFlags(["-warnings-as-errors"]),
]

// The fuzz builds (scripts/lib/fuzz.sh sets GOVOFFICE_FUZZ_C=1) instrument the C shim behind the
// XML-signature verifier for libFuzzer and AddressSanitizer like the Swift code, without
// recompiling every C dependency (BoringSSL) with them.
let fuzzC: [CSetting] = ProcessInfo.processInfo.environment["GOVOFFICE_FUZZ_C"] == "1"
    ? [.unsafeFlags(["-fsanitize=fuzzer-no-link,address"])] : []

let package = Package(
    name: "GovOffice",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "govoffice", targets: ["govoffice"]),
        .library(name: "GovCore", targets: ["GovCore"]),
        .library(name: "XMLKit", targets: ["XMLKit"]),
        .library(name: "EdXML", targets: ["EdXML"]),
        .library(name: "XMLSecurity", targets: ["XMLSecurity"]),
        .library(name: "App", targets: ["App"]),
        .library(name: "PKCS11", targets: ["PKCS11"]),
        .library(name: "ExchangeClient", targets: ["ExchangeClient"]),
        .library(name: "OfficeRules", targets: ["OfficeRules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", exact: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", exact: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", exact: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", exact: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", exact: "2.14.0"),
        .package(url: "https://github.com/vapor/leaf.git", exact: "4.5.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", exact: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", exact: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", exact: "2.17.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", exact: "2.5.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", exact: "0.9.20"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
    ],
    targets: [
        // Vapor-free domain rules of the foundation: agency codes, roles and access, audit chain,
        // CSV records, text normalisation, localisation catalogues.
        .target(
            name: "GovCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: strict
        ),
        // The document office's rules of Decree 30/2020, without Vapor: document types, number and
        // notation, number series, working days, the incoming workflow, the iCalendar feed.
        .target(name: "OfficeRules", dependencies: ["GovCore", "EdXML"], swiftSettings: strict),
        // libxml2 from Debian, and the one Swift wrapper every XML user goes through (safe reading,
        // deterministic writing, canonicalisation).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(name: "XMLKit", dependencies: ["CLibXML2"], swiftSettings: strict),
        // The QCVN 102:2016 codec: model, reader, writer, validation, builders.
        .target(
            name: "EdXML",
            dependencies: ["GovCore", "XMLKit", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict
        ),
        // Certificates and keys: the signing-key protocol, software keys, trust store, chain
        // validation, revocation (OCSP, CRL), CMS, the demo PKI.
        .target(
            name: "PKI",
            dependencies: [
                "GovCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The PKCS#11 header only (p11-kit's copy of the OASIS header); modules are dlopen'ed at
        // run time, so nothing is linked.
        .systemLibrary(name: "CPKCS11", pkgConfig: "p11-kit-1", providers: [.apt(["libp11-kit-dev"])]),
        // Signing with a key held on a PKCS#11 token (smart card through OpenSC, HSM, SoftHSM2).
        .target(
            name: "PKCS11",
            dependencies: [
                "CPKCS11",
                "PKI",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // xmlsec1 (XML-DSig) over OpenSSL, from Debian. SwiftPM drops pkg-config -D flags, so the
        // shim header and CXMLSecShim restate them.
        .systemLibrary(name: "CXMLSec", pkgConfig: "xmlsec1-openssl", providers: [.apt(["libxmlsec1-dev"])]),
        // What Swift cannot call in xmlsec1 (macros, once-per-process set-up) and the OpenSSL key
        // whose private operations call back into a PKI.SigningKey.
        .target(
            name: "CXMLSecShim",
            dependencies: ["CXMLSec"],
            cSettings: [
                .define("XMLSEC_CRYPTO_OPENSSL", to: "1"),
                .define("XMLSEC_NO_SIZE_T"),
                .define("XMLSEC_OPENSSL3_ENGINES", to: "1"),
                .define("XMLSEC_NO_GOST", to: "1"),
                .define("XMLSEC_NO_GOST2012", to: "1"),
                .define("XMLSEC_NO_CRYPTO_DYNAMIC_LOADING", to: "1"),
                .define("__XMLSEC_FUNCTION__", to: "__func__"),
                .define("OPENSSL_SUPPRESS_DEPRECATED"),
            ] + fuzzC
        ),
        // Enveloped XML signatures of edXML messages: signing with any PKI.SigningKey, verifying.
        .target(
            name: "XMLSecurity",
            dependencies: ["XMLKit", "PKI", "CXMLSecShim", "CLibXML2"],
            swiftSettings: strict
        ),
        // What an agency system links to talk to the hub over HTTP (the document office uses
        // nothing else): submit, inbox with long-poll, fetch, acknowledge, history, webhooks.
        .target(
            name: "ExchangeClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "App",
            dependencies: [
                "GovCore",
                "EdXML",
                "ExchangeClient",
                "OfficeRules",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "PKI",
                "PKCS11",
                "XMLSecurity",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "FluentSQL", package: "fluent-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // libFuzzer target on the edXML reader (scripts/fuzz-edxml builds it with -sanitize=fuzzer).
        .executableTarget(name: "EdXMLFuzz", dependencies: ["EdXML", "FuzzSupport"], swiftSettings: strict),
        // libFuzzer target on the XML-signature verifier and its C shim (scripts/fuzz-xmlsig).
        .executableTarget(name: "XMLSignatureFuzz", dependencies: ["XMLSecurity", "PKI", "XMLKit", "FuzzSupport"],
                          swiftSettings: strict),
        // What the fuzz targets share: the hand-over to libFuzzer's driver.
        .target(name: "FuzzSupport", swiftSettings: strict),
        // The codec's benchmark (bench/edxml.sh), with libxml2 itself as the baseline.
        // What the benchmarks share: the measured documents, the timing loop, the row format.
        .target(name: "BenchSupport", dependencies: ["EdXML"], swiftSettings: strict),
        .executableTarget(name: "EdXMLBench", dependencies: ["BenchSupport", "EdXML", "XMLKit", "CLibXML2"], swiftSettings: strict),
        // The XML-signature benchmark (bench/signatures.sh): software key and SoftHSM2 token, with
        // the xmlsec1 command line as the baseline.
        .executableTarget(
            name: "SignBench",
            dependencies: ["BenchSupport", "EdXML", "XMLSecurity", "PKI", "PKCS11", "GovCore"],
            swiftSettings: strict
        ),
        // The hub's benchmark (bench/exchange.sh): HTTP and in-process, SQLite and PostgreSQL.
        .executableTarget(
            name: "HubBench",
            dependencies: ["App", "BenchSupport", "EdXML", "ExchangeClient", "PKI", "XMLSecurity"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "govoffice",
            dependencies: ["App"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GovCoreTests",
            dependencies: ["GovCore"],
            swiftSettings: strict
        ),
        .testTarget(name: "XMLKitTests", dependencies: ["XMLKit"], swiftSettings: strict),
        .testTarget(name: "PKITests", dependencies: ["PKI"], swiftSettings: strict),
        .testTarget(
            name: "PKCS11Tests",
            dependencies: [
                "PKCS11",
                "CPKCS11",
                "PKI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "XMLSecurityTests",
            dependencies: [
                "XMLSecurity",
                "PKI",
                "EdXML",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EdXMLTests",
            dependencies: ["EdXML", "XMLKit", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strict
        ),
        .testTarget(name: "ExchangeClientTests", dependencies: ["ExchangeClient"], swiftSettings: strict),
        .testTarget(name: "OfficeRulesTests", dependencies: ["OfficeRules", "GovCore", "EdXML"], swiftSettings: strict),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App",
                "ExchangeClient",
                "OfficeRules",
                "PKI",
                "XMLSecurity",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "VaporTesting", package: "vapor"),
                // Requests over a real loopback socket (a peer address), redirects not followed.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
    ]
)
