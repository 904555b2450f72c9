import Foundation
import TOMLKit

/// A validated config plus the secrets it refers to, ready for the daemon.
public struct LoadedConfig: Sendable, Equatable {
    public var config: DaemonConfig
    /// The Akua API token.
    public var token: Secret
    /// One per `config.webhooks`, in the same order (`whsec_<base64>`; see `Secret.revealWebhookKey()`).
    public var webhookSecrets: [Secret]
    /// One per `config.webhooks`: the PagerDuty routing key of a `format = "pagerduty"` webhook, else nil.
    public var routingKeys: [Secret?] = []
    /// One per `config.webhooks`: the URL read from its `url_file`, else nil (the URL is `url`).
    public var webhookURLs: [Secret?] = []
    /// One per `config.webhooks`: the secrets after the first of a `secret_file` list (a rotation).
    public var additionalWebhookSecrets: [[Secret]] = []
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

/// Which secrets a load reads: all (the daemon), only the API token (`check`), or none (`status`).
public enum SecretScope: Sendable {
    case all, tokenOnly, none
}

/// Reads, parses and validates the daemon's TOML config file and resolves its secrets.
///
/// Never traps and never blocks on odd input: oversized, non-UTF-8, NUL-containing, deeply nested or
/// syntactically broken files all come back as `ConfigError` diagnostics of the form `FILE:LINE: key: message`.
public enum ConfigLoader {
    /// Loads the config file at `path` and the `machines.d/*.toml` drop-ins next to it. `environment` supplies `CREDENTIALS_DIRECTORY`,
    /// `STATE_DIRECTORY` and `AKUA_API_TOKEN` (the process environment by default).
    /// `tokenFallbackFile` is tried last for the token (the CLI passes the service's `LoadCredential=`
    /// source, so `check` run by root uses the service's token). With `secrets: .tokenOnly` no webhook
    /// secret is read and the result has no webhooks (for `check`, which only talks to the API).
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        tokenFallbackFile: String? = nil, secrets: SecretScope = .all, credentialFallbacks: [String: String] = [:]
    ) -> Result<LoadedConfig, ConfigError> {
        load(path: path, environment: environment, scope: secrets, tokenFallbackFile: tokenFallbackFile,
             credentialFallbacks: credentialFallbacks)
    }

    /// The validated config without reading any secret (for `status`, `state`, which need no token).
    public static func loadSettings(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Result<DaemonConfig, ConfigError> {
        load(path: path, environment: environment, scope: .none, tokenFallbackFile: nil).map(\.config)
    }

    private static func load(
        path: String, environment: [String: String], scope: SecretScope, tokenFallbackFile: String?,
        credentialFallbacks: [String: String] = [:]
    ) -> Result<LoadedConfig, ConfigError> {
        switch FileReader.contents(of: path, limit: ConfigSchema.maximumFileBytes) {
        case .contents(let bytes, _):
            let result = parse(
                bytes: bytes, file: path, environment: environment, readFile: readFileFromDisk, secrets: scope,
                tokenFallbackFile: tokenFallbackFile, credentialFallbacks: credentialFallbacks,
                checksMaintenanceMachines: false)
            // The machines.d drop-ins next to the file add machines (see MachineDropIns); maintenance
            // windows may name any of them.
            let merged = MachineDropIns.apply(to: result, configPath: path, mainBytes: bytes)
            return checkMaintenanceMachines(merged, mainBytes: bytes)
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
        readFile: (String) -> FileReadResult = readFileFromDisk, secrets: SecretScope = .all,
        tokenFallbackFile: String? = nil, credentialFallbacks: [String: String] = [:]
    ) -> Result<LoadedConfig, ConfigError> {
        parse(
            bytes: bytes, file: file, environment: environment, readFile: readFile, secrets: secrets,
            tokenFallbackFile: tokenFallbackFile, credentialFallbacks: credentialFallbacks, checksMaintenanceMachines: true)
    }

    /// A loaded config whose `[[maintenance]]` machine ids are checked against every machine, drop-ins
    /// included (`mainBytes`: the config file, indexed only to name the line of an unknown id).
    private static func checkMaintenanceMachines(
        _ result: Result<LoadedConfig, ConfigError>, mainBytes: [UInt8]
    ) -> Result<LoadedConfig, ConfigError> {
        guard case .success(let loaded) = result else { return result }
        let unknown = ConfigValidator.unknownMaintenanceMachines(loaded.config.maintenance, machines: loaded.config.machines)
        if unknown.isEmpty { return result }
        let index = TOMLLineIndex(bytes: mainBytes)
        let errors = unknown.map {
            ConfigDiagnostic(file: loaded.path, line: index.nearestLine(of: $0.path), key: $0.path.dotted, message: $0.message)
        }
        return .failure(ConfigError(diagnostics: loaded.warnings + errors))
    }

    private static func parse(
        bytes: [UInt8], file: String, environment: [String: String],
        readFile: (String) -> FileReadResult, secrets: SecretScope,
        tokenFallbackFile: String?, credentialFallbacks: [String: String], checksMaintenanceMachines: Bool
    ) -> Result<LoadedConfig, ConfigError> {
        if bytes.count > ConfigSchema.maximumFileBytes {
            return .failure(
                fileError(file, "file is too large (\(bytes.count) bytes; the limit is \(ConfigSchema.maximumFileBytes))"))
        }
        let parsed = TOMLDocument.parse(bytes, file: file)
        var sink = parsed.sink
        guard let root = parsed.root else { return .failure(ConfigError(diagnostics: sink.sorted)) }

        var validator = ConfigValidator(sink: sink, environment: environment)
        var config = validator.validate(root, machines: parsed.machines)
        if checksMaintenanceMachines { validator.checkMaintenanceMachines(config) }
        // TOMLKit never frees a parsed document (TOMLTable has no deinit): empty it here, or every load
        // and reload would leak the whole tree (about 50 MB for 100,000 machines). It also leaks a C copy
        // of each string read from it, which is why plain `[[machine]]` blocks never go through it.
        root.clear()
        sink = validator.sink
        if secrets == .none {
            // Settings only: no secret is read, so none is returned (callers get `DaemonConfig` alone).
            guard !sink.hasErrors else { return .failure(ConfigError(diagnostics: sink.sorted)) }
            return .success(
                LoadedConfig(config: config, token: Secret("", source: "(not read)"), webhookSecrets: [],
                             warnings: sink.sorted, path: file))
        }
        var resolver = SecretResolver(
            environment: environment, tokenFallbackFile: tokenFallbackFile, credentialFallbacks: credentialFallbacks)
        let token = resolver.token(validator.tokenReference, sink: &sink, read: readFile)
        var webhookSecrets: [Secret] = []
        if secrets == .tokenOnly { config.webhooks = [] }
        for reference in validator.webhookSecretReferences where secrets == .all {
            if let secret = resolver.webhookSecret(reference, sink: &sink, read: readFile) {
                webhookSecrets.append(secret)
            }
        }
        // Webhook templates are read here (not secrets, but files the config names), so a reload sees an
        // edited template; their syntax is checked where they are parsed (WebhookTemplate).
        for reference in validator.templateReferences where secrets == .all {
            switch readFile(reference.file) {
            case .contents(let bytes, _):
                if let text = String(validating: bytes, as: UTF8.self) {
                    config.webhooks[reference.index].templateText = text
                } else {
                    sink.add(file: reference.file, line: 0, key: reference.path.dotted, message: "the template is not UTF-8")
                }
            case .missing:
                sink.error(reference.path, "cannot read template \(TOMLPathFormat.quoted(reference.file, limit: 200)): No such file or directory")
            case .unreadable(let reason):
                sink.error(reference.path, "cannot read template \(TOMLPathFormat.quoted(reference.file, limit: 200)): \(reason)")
            }
        }
        var webhookURLs = [Secret?](repeating: nil, count: config.webhooks.count)
        if secrets == .all, !validator.urlReferences.isEmpty {
            // Every URL, plain or from a file, is an outbox id: no two may be equal.
            var seen = Dictionary(config.webhooks.enumerated().filter { !$0.element.url.isEmpty }.map { ($0.element.url, $0.offset) }) { first, _ in first }
            for (index, reference) in validator.urlReferences {
                guard let secret = resolver.webhookURL(reference, sink: &sink, read: readFile) else { continue }
                let key = reference.path.dotted, line = sink.line(of: reference.path)
                let webhook = config.webhooks[index]
                switch HTTPURL.parse(secret.reveal(), allowQuery: true) {
                case .failure(let problem):
                    sink.add(key: key, line: line, message: "the URL in \(TOMLPathFormat.quoted(reference.file ?? "", limit: 200)) \(problem.message)", severity: .error)
                case .success(let url):
                    if !url.isHTTPS, !url.isLoopback, !webhook.allowInsecureHTTP {
                        sink.add(key: key, line: line, message: "plain http is only allowed for loopback hosts; use https or set allow_insecure_http = true", severity: .error)
                        continue
                    }
                    let text = url.text(trimmingTrailingSlash: false)
                    if let other = seen[text] {
                        sink.add(key: key, line: line, message: "the URL in this file is also webhook[\(other)]'s URL", severity: .error)
                        continue
                    }
                    seen[text] = index
                    webhookURLs[index] = Secret(text, source: reference.file ?? "")
                    if webhook.name == "webhook" { config.webhooks[index].name = url.host }
                }
            }
        }
        var additionalSecrets: [[Secret]] = []
        for references in validator.additionalSecretReferences where secrets == .all {
            additionalSecrets.append(references.compactMap { resolver.webhookSecret($0, sink: &sink, read: readFile) })
        }
        var routingKeys: [Secret?] = []
        for reference in validator.routingKeyReferences where secrets == .all {
            routingKeys.append(reference.flatMap { resolver.routingKey($0, sink: &sink, read: readFile) })
        }
        let diagnostics = sink.sorted
        guard !sink.hasErrors, let token, webhookSecrets.count == config.webhooks.count else {
            return .failure(ConfigError(diagnostics: diagnostics))
        }
        var loaded = LoadedConfig(
            config: config, token: token, webhookSecrets: webhookSecrets, warnings: diagnostics, path: file)
        loaded.routingKeys = routingKeys
        loaded.additionalWebhookSecrets = additionalSecrets
        loaded.webhookURLs = webhookURLs
        return .success(loaded)
    }

    /// The default `readFile`: regular files only, at most 64 KiB, never blocking.
    public static func readFileFromDisk(_ path: String) -> FileReadResult {
        FileReader.contents(of: path, limit: ConfigSchema.maximumSecretBytes)
    }

    private static func fileError(_ file: String, _ message: String) -> ConfigError {
        ConfigError(diagnostics: [ConfigDiagnostic(file: file, line: 0, key: "(file)", message: message)])
    }
}
