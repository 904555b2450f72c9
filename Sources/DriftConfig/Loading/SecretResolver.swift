import DriftCore

/// Finds and checks the API token and webhook secrets, in the documented order, without ever putting a
/// secret value into a diagnostic.
///
/// Token: `[api] token_file`, else `$CREDENTIALS_DIRECTORY/akua-token`, else `$AKUA_API_TOKEN`.
/// Webhook secret: `secret_file`, else `$CREDENTIALS_DIRECTORY/webhook-secret`.
struct SecretResolver {
    let environment: [String: String]
    /// Tried after `$AKUA_API_TOKEN` (the service's `LoadCredential=akua-token:` source, for the CLI).
    let tokenFallbackFile: String?
    private var cache: [String: FileReadResult] = [:]
    private var warnedFiles: Set<String> = []

    /// Tried after `$CREDENTIALS_DIRECTORY` for webhook secrets and routing keys, by credential name
    /// (the service's `LoadCredential=` sources, for the CLI run by root).
    let credentialFallbacks: [String: String]

    init(environment: [String: String], tokenFallbackFile: String? = nil, credentialFallbacks: [String: String] = [:]) {
        self.environment = environment
        self.tokenFallbackFile = tokenFallbackFile
        self.credentialFallbacks = credentialFallbacks
    }

    /// What kind of secret is being read, for messages.
    private enum Kind {
        case token
        case webhookSecret
        case routingKey
        case webhookURL

        var fileLabel: String {
            switch self {
            case .token: "token file"
            case .webhookSecret: "webhook secret file"
            case .routingKey: "PagerDuty routing key file"
            case .webhookURL: "webhook URL file"
            }
        }
        var credentialName: String {
            switch self {
            case .token: "akua-token"
            case .webhookSecret: "webhook-secret"
            case .routingKey: "pagerduty-routing-key"
            case .webhookURL: "webhook-url"
            }
        }
    }

    private var credentialsDirectory: String? {
        guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else { return nil }
        return directory
    }

    mutating func token(
        _ reference: ConfigValidator.SecretReference, sink: inout DiagnosticSink, read: (String) -> FileReadResult
    ) -> Secret? {
        let key = reference.path.dotted
        if reference.invalid { return nil }
        if let file = reference.file {
            return fromFile(file, kind: .token, key: key, line: sink.line(of: reference.path), sink: &sink, read: read)
        }
        if let directory = credentialsDirectory {
            let file = Self.join(directory, Kind.token.credentialName)
            if let secret = fromFile(file, kind: .token, key: key, line: 0, sink: &sink, read: read, mayBeMissing: true) {
                return secret.value
            }
        }
        if let value = environment["AKUA_API_TOKEN"] {
            guard let token = check(Array(value.utf8), kind: .token, source: "$AKUA_API_TOKEN", key: key, line: 0, sink: &sink)
            else { return nil }
            return Secret(token, source: "$AKUA_API_TOKEN")
        }
        if let file = tokenFallbackFile,
            let secret = fromFile(file, kind: .token, key: key, line: 0, sink: &sink, read: read, mayBeMissing: true)
        {
            return secret.value
        }
        let looked = tokenFallbackFile.map {
            " (none is set, and the service's token file \(TOMLPathFormat.quoted($0, limit: 200)) does not exist or is empty)"
        } ?? ""
        sink.add(
            key: key, line: 0,
            message: "no API token: set [api] token_file, provide $CREDENTIALS_DIRECTORY/akua-token "
                + "(systemd LoadCredential=akua-token:...), or set AKUA_API_TOKEN" + looked,
            severity: .error)
        return nil
    }

    /// A webhook's secret: `secret_file`, else `$CREDENTIALS_DIRECTORY/webhook-secret`, else the CLI's
    /// fallback; a format without signatures needs none (an empty secret).
    mutating func webhookSecret(
        _ reference: ConfigValidator.SecretReference, sink: inout DiagnosticSink, read: (String) -> FileReadResult
    ) -> Secret? {
        credential(
            reference, kind: .webhookSecret, sink: &sink, read: read,
            orElse: reference.optional ? Secret("", source: "(not needed: this format is not signed)") : nil,
            missing: "no webhook secret: set secret_file or provide $CREDENTIALS_DIRECTORY/webhook-secret")
    }

    /// A webhook's URL from its `url_file` (the URL itself is checked by the caller).
    mutating func webhookURL(
        _ reference: ConfigValidator.SecretReference, sink: inout DiagnosticSink, read: (String) -> FileReadResult
    ) -> Secret? {
        guard let file = reference.file else { return nil }
        return fromFile(file, kind: .webhookURL, key: reference.path.dotted, line: sink.line(of: reference.path), sink: &sink, read: read)
    }

    /// A PagerDuty webhook's routing key: `routing_key_file`, else `$CREDENTIALS_DIRECTORY/pagerduty-routing-key`,
    /// else the CLI's fallback.
    mutating func routingKey(
        _ reference: ConfigValidator.SecretReference, sink: inout DiagnosticSink, read: (String) -> FileReadResult
    ) -> Secret? {
        credential(
            reference, kind: .routingKey, sink: &sink, read: read, orElse: nil,
            missing: "no PagerDuty routing key: set routing_key_file or provide $CREDENTIALS_DIRECTORY/pagerduty-routing-key")
    }

    /// A credential in the documented order: the `*_file` key, the systemd credential of `kind`, the CLI's
    /// fallback file for it (the unit's `LoadCredential=` source), then `orElse`, else the `missing` error.
    private mutating func credential(
        _ reference: ConfigValidator.SecretReference, kind: Kind, sink: inout DiagnosticSink,
        read: (String) -> FileReadResult, orElse: Secret?, missing: String
    ) -> Secret? {
        let key = reference.path.dotted
        if reference.invalid { return nil }
        if let file = reference.file {
            return fromFile(file, kind: kind, key: key, line: sink.line(of: reference.path), sink: &sink, read: read)
        }
        var candidates: [String] = []
        if let directory = credentialsDirectory { candidates.append(Self.join(directory, kind.credentialName)) }
        if orElse == nil, let fallback = credentialFallbacks[kind.credentialName] { candidates.append(fallback) }
        for file in candidates {
            if let secret = fromFile(file, kind: kind, key: key, line: 0, sink: &sink, read: read, mayBeMissing: true) {
                return secret.value
            }
        }
        if let orElse { return orElse }
        sink.add(key: key, line: sink.line(of: reference.path), message: missing, severity: .error)
        return nil
    }

    /// Result of looking for an optional credential file: nil means "missing, try the next source".
    private struct Found {
        var value: Secret?
    }

    private mutating func fromFile(
        _ file: String, kind: Kind, key: String, line: Int, sink: inout DiagnosticSink, read: (String) -> FileReadResult
    ) -> Secret? {
        fromFile(file, kind: kind, key: key, line: line, sink: &sink, read: read, mayBeMissing: false)?.value
    }

    /// Reads `file`; nil only if it is missing and `mayBeMissing` (the caller falls back to the next source).
    private mutating func fromFile(
        _ file: String, kind: Kind, key: String, line: Int, sink: inout DiagnosticSink,
        read: (String) -> FileReadResult, mayBeMissing: Bool
    ) -> Found? {
        let result: FileReadResult
        if let cached = cache[file] {
            result = cached
        } else {
            result = read(file)
            cache[file] = result
        }
        let shown = TOMLPathFormat.quoted(file, limit: 200)
        switch result {
        case .missing:
            if mayBeMissing { return nil }
            sink.add(
                key: key, line: line, message: "cannot read \(kind.fileLabel) \(shown): No such file or directory",
                severity: .error)
            return Found(value: nil)
        case .unreadable(let reason):
            sink.add(key: key, line: line, message: "cannot read \(kind.fileLabel) \(shown): \(reason)", severity: .error)
            return Found(value: nil)
        case .contents(let bytes, let mode):
            // systemd's SetCredential= fallback for a missing LoadCredential= source is a lone newline:
            // an empty credential means "not provided", so the next source is tried.
            if mayBeMissing, bytes.allSatisfy(Self.isSpace) { return nil }
            if mode & 0o044 != 0, warnedFiles.insert(file).inserted {
                let octal = String(mode & 0o7777, radix: 8)
                sink.add(
                    key: key, line: line,
                    message: "\(kind.fileLabel) \(shown) is readable by group or others "
                        + "(mode \(String(repeating: "0", count: max(0, 4 - octal.count)) + octal)); restrict it with chmod 600",
                    severity: .warning)
            }
            let source = "\(kind.fileLabel) \(shown)"
            switch kind {
            case .token:
                guard let token = check(bytes, kind: kind, source: source, key: key, line: line, sink: &sink) else {
                    return Found(value: nil)
                }
                return Found(value: Secret(token, source: file))
            case .webhookSecret, .routingKey, .webhookURL:
                guard let secret = check(bytes, kind: kind, source: source, key: key, line: line, sink: &sink) else {
                    return Found(value: nil)
                }
                return Found(value: Secret(secret, source: file))
            }
        }
    }

    /// The trimmed value if it is well-formed for `kind`; otherwise reports why (never the value).
    private func check(
        _ bytes: [UInt8], kind: Kind, source: String, key: String, line: Int, sink: inout DiagnosticSink
    ) -> String? {
        var slice = bytes[...]
        while let first = slice.first, Self.isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, Self.isSpace(last) { slice = slice.dropLast() }
        func fail(_ message: String) -> String? {
            sink.add(key: key, line: line, message: message, severity: .error)
            return nil
        }
        if slice.isEmpty { return fail("\(source) is empty") }
        if slice.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            return fail("\(source) contains spaces, control or non-ASCII characters (only visible ASCII is allowed)")
        }
        let text = String(decoding: slice, as: UTF8.self)
        if kind == .webhookSecret {
            // The same decoder as the signer's, so what passes here can always be used by `run`.
            do {
                _ = try WebhookSecret.decode(text)
            } catch {
                return fail("\(source) \(error.description)")
            }
        }
        return text
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
