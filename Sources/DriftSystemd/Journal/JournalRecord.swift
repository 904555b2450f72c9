import Logging

/// Pure construction of the journal fields for one swift-log record (unit-testable without journald).
public enum JournalRecord {
    /// Default `SYSLOG_IDENTIFIER`.
    public static let defaultIdentifier = "akua-driftd"

    /// Fields for one log record, in this order: `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, `CODE_FILE`,
    /// `CODE_LINE`, `CODE_FUNC`, `LOGGER_LABEL` (if non-empty), `LOGGER_SOURCE` (if non-empty),
    /// `ERROR` (if `error` is given), then every metadata leaf sorted by key.
    ///
    /// Metadata keys become UPPERCASE names (`JournalField.sanitizedName`); nested keys are joined with `_`
    /// (`["req": ["id": "7"]]` gives `REQ_ID=7`). A name that collides with an earlier field gets a
    /// `_2`, `_3`, ... suffix, so metadata can never overwrite `MESSAGE` or `PRIORITY`.
    public static func fields(
        level: Logger.Level,
        message: String,
        metadata: Logger.Metadata?,
        source: String,
        file: String,
        function: String,
        line: UInt,
        label: String = "",
        identifier: String = defaultIdentifier,
        error: (any Error)? = nil
    ) -> [JournalField] {
        var builder = Builder()
        builder.add("MESSAGE", message)
        builder.add("PRIORITY", JournalPriority(level).fieldValue)
        builder.add("SYSLOG_IDENTIFIER", identifier)
        builder.add("CODE_FILE", file)
        builder.add("CODE_LINE", String(line))
        builder.add("CODE_FUNC", function)
        if !label.isEmpty { builder.add("LOGGER_LABEL", label) }
        if !source.isEmpty { builder.add("LOGGER_SOURCE", source) }
        if let error { builder.add("ERROR", String(describing: error)) }
        if let metadata {
            for leaf in MetadataFlattening.leaves(metadata) {
                builder.add(JournalField.sanitizedName(leaf.path.joined(separator: "_")), leaf.value)
            }
        }
        return builder.fields
    }

    /// Accumulates fields with unique names.
    private struct Builder {
        var fields: [JournalField] = []
        var used: Set<String> = []

        mutating func add(_ name: String, _ value: String) {
            var unique = name
            var counter = 2
            while used.contains(unique) {
                let suffix = "_\(counter)"
                unique = String(name.prefix(JournalField.maxNameLength - suffix.count)) + suffix
                counter += 1
            }
            used.insert(unique)
            fields.append(JournalField(unique, value))
        }
    }
}
