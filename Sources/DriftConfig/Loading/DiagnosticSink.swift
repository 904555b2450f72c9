/// Collects diagnostics for one config file, taking lines from the `TOMLLineIndex`.
struct DiagnosticSink {
    let file: String
    let index: TOMLLineIndex
    private(set) var diagnostics: [ConfigDiagnostic] = []
    /// Diagnostics beyond `limit` are counted, not kept, so a hostile file cannot flood the output.
    private(set) var dropped = 0
    static let limit = 500

    init(file: String, index: TOMLLineIndex) {
        self.file = file
        self.index = index
    }

    private(set) var hasErrors = false

    /// The line of `path`, or of its nearest enclosing table; 0 if unknown.
    func line(of path: TOMLPath) -> Int { index.nearestLine(of: path) }

    mutating func error(_ path: TOMLPath, _ message: String) {
        add(key: path.dotted, line: line(of: path), message: message, severity: .error)
    }

    mutating func warning(_ path: TOMLPath, _ message: String) {
        add(key: path.dotted, line: line(of: path), message: message, severity: .warning)
    }

    mutating func add(key: String, line: Int, message: String, severity: ConfigDiagnostic.Severity) {
        if severity == .error { hasErrors = true }
        guard diagnostics.count < Self.limit else {
            dropped += 1
            return
        }
        diagnostics.append(ConfigDiagnostic(file: file, line: line, key: key, message: message, severity: severity))
    }

    /// A problem in another file the config names (a webhook template): `OTHER:LINE: key: message`.
    mutating func add(file other: String, line: Int, key: String, message: String) {
        hasErrors = true
        guard diagnostics.count < Self.limit else {
            dropped += 1
            return
        }
        diagnostics.append(ConfigDiagnostic(file: other, line: line, key: key, message: message, severity: .error))
    }

    /// Diagnostics by line (stable within a line), those without a line (0) last, then a note on any
    /// that were dropped.
    var sorted: [ConfigDiagnostic] {
        var result = diagnostics.enumerated().sorted { lhs, rhs in
            let left = lhs.element.line == 0 ? Int.max : lhs.element.line
            let right = rhs.element.line == 0 ? Int.max : rhs.element.line
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
        if dropped > 0 {
            result.append(
                ConfigDiagnostic(
                    file: file, line: 0, key: "(file)", message: "\(dropped) more problems not shown",
                    severity: hasErrors ? .error : .warning))
        }
        return result
    }
}
