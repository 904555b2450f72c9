/// One problem found in a config file, printed as `FILE:LINE: key: message`
/// (warnings as `FILE:LINE: key: warning: message`), the form editors and `grep` understand.
///
/// Messages never contain secret values (tokens, webhook secrets).
public struct ConfigDiagnostic: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Whether a diagnostic makes the config unusable.
    public enum Severity: String, Sendable, Equatable, Hashable {
        case error
        case warning
    }

    /// The config file's path as given to the loader.
    public var file: String
    /// 1-based line; 0 if the problem cannot be pinned to a line (missing file, environment, defaults).
    public var line: Int
    /// Dotted key, e.g. `api.timeout` or `machine[3].id` (0-based index), or a pseudo key in
    /// parentheses: `(file)`, `(syntax)`, `(environment)`.
    public var key: String
    /// What is wrong, as one line.
    public var message: String
    public var severity: Severity

    public init(file: String, line: Int, key: String, message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
        self.severity = severity
    }

    public var description: String {
        switch severity {
        case .error: "\(file):\(line): \(key): \(message)"
        case .warning: "\(file):\(line): \(key): warning: \(message)"
        }
    }
}

/// Why a config could not be loaded: every error found (not only the first), plus any warnings,
/// sorted by line (line 0 last).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]

    public init(diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// Only the errors (the diagnostics may also carry warnings found on the way).
    public var errors: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .error } }

    /// One diagnostic per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
