import CBuildInfo

/// The akua-driftd release version, sent in `User-Agent: akua-driftd/VERSION` by the API and webhook clients.
/// debian/changelog's top entry carries the same version (a unit test checks that they agree).
public let akuaDriftdVersion = "0.1.0"

/// What tells two builds apart: stamped by the Makefile's release build (`make release-driftd`, `make deb`)
/// through Package.swift's `AKUA_BUILD_*` environment variables; "unknown" in a plain `swift build`.
public enum AkuaDriftdBuild {
    /// The git revision the binary was built from (`git describe --always --dirty`).
    public static let revision = stamped(akua_build_revision())
    /// The build date in UTC, ISO 8601 (`SOURCE_DATE_EPOCH` when set, for reproducible builds).
    public static let date = stamped(akua_build_date())
    /// The Swift toolchain: `swift --version` at build time, else the compiler version the code was built with.
    public static let swift: String = {
        let value = String(cString: akua_build_swift())
        return value.isEmpty ? "Swift version \(compilerVersion)" : value
    }()

    /// `akua-driftd --version`: the version, then one `key: value` line each for revision, build date and Swift.
    public static var versionText: String {
        "\(akuaDriftdVersion)\nrevision: \(revision)\nbuilt: \(date)\nswift: \(swift)"
    }

    private static func stamped(_ pointer: UnsafePointer<CChar>) -> String {
        let value = String(cString: pointer)
        return value.isEmpty ? "unknown" : value
    }

    /// The compiler's major.minor version, known at compile time.
    private static var compilerVersion: String {
        #if compiler(>=6.5)
        return "6.5 or later"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }
}
