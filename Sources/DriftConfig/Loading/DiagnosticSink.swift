/// Collects diagnostics for one config file, taking lines from the `TOMLLineIndex`.
struct DiagnosticSink {
    let file: String
    let index: TOMLLineIndex
    private(set) var diagnostics: [ConfigDiagnostic] = []

    init(file: String, index: TOMLLineIndex) {
        self.file = file
        self.index = index
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The line of `path`, or of its nearest enclosing table; 0 if unknown.
    func line(of path: TOMLPath) -> Int { index.nearestLine(of: path) }

    mutating func error(_ path: TOMLPath, _ message: String) {
        add(key: path.dotted, line: line(of: path), message: message, severity: .error)
    }

    mutating func warning(_ path: TOMLPath, _ message: String) {
        add(key: path.dotted, line: line(of: path), message: message, severity: .warning)
    }

    mutating func add(key: String, line: Int, message: String, severity: ConfigDiagnostic.Severity) {
        diagnostics.append(ConfigDiagnostic(file: file, line: line, key: key, message: message, severity: severity))
    }

    /// Diagnostics by line (stable within a line), those without a line (0) last.
    var sorted: [ConfigDiagnostic] {
        diagnostics.enumerated().sorted { lhs, rhs in
            let left = lhs.element.line == 0 ? Int.max : lhs.element.line
            let right = rhs.element.line == 0 ? Int.max : rhs.element.line
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
    }
}
