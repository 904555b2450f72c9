import Foundation
import Testing

@testable import DriftConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fresh temporary directory, removed when the value goes away.
final class TempDirectory {
    let path: String

    init() {
        var base = NSTemporaryDirectory()
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/driftconfig-test-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` to `name` inside the directory with permission bits `mode`; returns the full path.
    @discardableResult
    func write(_ name: String, _ contents: String, mode: mode_t = 0o600) -> String {
        write(name, bytes: Array(contents.utf8), mode: mode)
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8], mode: mode_t = 0o600) -> String {
        let full = path + "/" + name
        _ = FileManager.default.createFile(atPath: full, contents: Data(bytes))
        chmod(full, mode)
        return full
    }

    /// Creates a subdirectory; returns its path.
    @discardableResult
    func makeDirectory(_ name: String) -> String {
        let full = path + "/" + name
        try? FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }
}

/// The repository root, found from this file's location.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A token value that must never show up in any diagnostic.
let sampleToken = "akua_tok_S3CR3T-do-not-print-4f9a"
/// A valid Standard Webhooks secret (24 random-looking bytes) that must never show up either.
let sampleWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/// Diagnostic lines of a failed result (empty on success).
func errorLines(_ result: Result<LoadedConfig, ConfigError>) -> [String] {
    switch result {
    case .success: []
    case .failure(let error): error.diagnostics.map(\.description)
    }
}

/// The loaded config, or nil (and a recorded issue listing the diagnostics) on failure.
func loaded(
    _ result: Result<LoadedConfig, ConfigError>, sourceLocation: SourceLocation = #_sourceLocation
) -> LoadedConfig? {
    switch result {
    case .success(let config): return config
    case .failure(let error):
        Issue.record("expected a valid config, got:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Parses `text` as `c.toml` with a token in the environment and secret files served from `files`.
func parseConfig(
    _ text: String, environment: [String: String] = ["AKUA_API_TOKEN": sampleToken],
    files: [String: FileReadResult] = [:]
) -> Result<LoadedConfig, ConfigError> {
    ConfigLoader.parse(text: text, file: "c.toml", environment: environment) { path in
        files[path] ?? .missing
    }
}

/// A secret file's contents as the injected reader serves them.
func secretFile(_ text: String, mode: UInt32 = 0o600) -> FileReadResult {
    .contents(Array(text.utf8), mode: mode)
}
