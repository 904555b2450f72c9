import Foundation
import TOMLKit

/// A validated config plus the secrets it refers to, ready for the daemon.
public struct LoadedConfig: Sendable, Equatable {
    public var config: DaemonConfig
    /// The Akua API token.
    public var token: Secret
    /// One per `config.webhooks`, in the same order (`whsec_<base64>`; see `Secret.revealWebhookKey()`).
    public var webhookSecrets: [Secret]
    /// Problems that do not stop the daemon (insecure http, readable secret files, no machines).
    public var warnings: [ConfigDiagnostic]
    /// The config file's path as given.
    public var path: String

    public init(
        config: DaemonConfig, token: Secret, webhookSecrets: [Secret], warnings: [ConfigDiagnostic], path: String
    ) {
        self.config = config
        self.token = token
        self.webhookSecrets = webhookSecrets
        self.warnings = warnings
        self.path = path
    }
}

/// Reads, parses and validates the daemon's TOML config file and resolves its secrets.
///
/// Never traps and never blocks on odd input: oversized, non-UTF-8, NUL-containing, deeply nested or
/// syntactically broken files all come back as `ConfigError` diagnostics of the form `FILE:LINE: key: message`.
public enum ConfigLoader {
    /// Loads the config file at `path`. `environment` supplies `CREDENTIALS_DIRECTORY`,
    /// `STATE_DIRECTORY` and `AKUA_API_TOKEN` (the process environment by default).
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Result<LoadedConfig, ConfigError> {
        switch FileReader.contents(of: path, limit: ConfigSchema.maximumFileBytes) {
        case .contents(let bytes, _):
            return parse(bytes: bytes, file: path, environment: environment)
        case .missing:
            return .failure(fileError(path, "cannot read: No such file or directory"))
        case .unreadable(let reason):
            return .failure(fileError(path, "cannot read: \(reason)"))
        }
    }

    /// Parses and validates config `text` as if read from `file` (used only in diagnostics).
    /// Secret files are read through `readFile`, which tests and fuzzers can replace.
    public static func parse(
        text: String, file: String, environment: [String: String],
        readFile: (String) -> FileReadResult = readFileFromDisk
    ) -> Result<LoadedConfig, ConfigError> {
        parse(bytes: Array(text.utf8), file: file, environment: environment, readFile: readFile)
    }

    /// Parses and validates raw config bytes (any bytes at all) as if read from `file`.
    public static func parse(
        bytes: [UInt8], file: String, environment: [String: String],
        readFile: (String) -> FileReadResult = readFileFromDisk
    ) -> Result<LoadedConfig, ConfigError> {
        if bytes.count > ConfigSchema.maximumFileBytes {
            return .failure(
                fileError(file, "file is too large (\(bytes.count) bytes; the limit is \(ConfigSchema.maximumFileBytes))"))
        }
        if let problem = EncodingCheck.firstProblem(in: bytes) {
            return .failure(ConfigError(diagnostics: [
                ConfigDiagnostic(file: file, line: problem.line, key: "(file)", message: problem.message)
            ]))
        }
        let index = TOMLLineIndex(bytes: bytes)
        var sink = DiagnosticSink(file: file, index: index)
        if let deep = index.tooDeep {
            sink.add(
                key: deep.path.isEmpty ? "(syntax)" : deep.path.dotted, line: deep.line,
                message: "nested more than \(TOMLLineIndex.maxDepth) levels deep", severity: .error)
            return .failure(ConfigError(diagnostics: sink.sorted))
        }
        if let hazard = index.hazard {
            sink.add(
                key: "(syntax)", line: hazard.line, message: "\(hazard.message) (column \(hazard.column))",
                severity: .error)
            return .failure(ConfigError(diagnostics: sink.sorted))
        }
        for location in index.nulCharacters {
            sink.add(
                key: location.path.isEmpty ? "(syntax)" : location.path.dotted, line: location.line,
                message: "contains an escaped NUL character (\\u0000), which is not allowed", severity: .error)
        }
        if sink.hasErrors { return .failure(ConfigError(diagnostics: sink.sorted)) }

        let root: TOMLTable
        do {
            root = try TOMLTable(string: String(decoding: bytes, as: UTF8.self))
        } catch let error as TOMLParseError {
            let column = error.source.begin.column
            sink.add(
                key: "(syntax)", line: max(0, error.source.begin.line),
                message: TOMLPathFormat.oneLine(column > 0 ? "\(error.description) (column \(column))" : error.description),
                severity: .error)
            return .failure(ConfigError(diagnostics: sink.sorted))
        } catch {
            sink.add(key: "(syntax)", line: 0, message: TOMLPathFormat.oneLine("cannot parse: \(error)"), severity: .error)
            return .failure(ConfigError(diagnostics: sink.sorted))
        }

        var validator = ConfigValidator(sink: sink, environment: environment)
        let config = validator.validate(root)
        // TOMLKit never frees a parsed document (TOMLTable has no deinit): empty it here, or every load
        // and reload would leak the whole tree (about 50 MB for 100,000 machines).
        root.clear()
        sink = validator.sink
        var resolver = SecretResolver(environment: environment)
        let token = resolver.token(validator.tokenReference, sink: &sink, read: readFile)
        var webhookSecrets: [Secret] = []
        for reference in validator.webhookSecretReferences {
            if let secret = resolver.webhookSecret(reference, sink: &sink, read: readFile) {
                webhookSecrets.append(secret)
            }
        }
        let diagnostics = sink.sorted
        guard !sink.hasErrors, let token, webhookSecrets.count == config.webhooks.count else {
            return .failure(ConfigError(diagnostics: diagnostics))
        }
        return .success(
            LoadedConfig(
                config: config, token: token, webhookSecrets: webhookSecrets, warnings: diagnostics, path: file))
    }

    /// The default `readFile`: regular files only, at most 64 KiB, never blocking.
    public static func readFileFromDisk(_ path: String) -> FileReadResult {
        FileReader.contents(of: path, limit: ConfigSchema.maximumSecretBytes)
    }

    private static func fileError(_ file: String, _ message: String) -> ConfigError {
        ConfigError(diagnostics: [ConfigDiagnostic(file: file, line: 0, key: "(file)", message: message)])
    }
}
