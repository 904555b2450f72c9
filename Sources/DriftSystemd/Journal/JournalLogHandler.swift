import Logging

/// A swift-log handler that writes every record to journald as a structured entry
/// (`MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, `CODE_*`, metadata as UPPERCASE fields; see `JournalRecord`).
///
/// A value type like every swift-log handler: each `Logger` owns its copy of level and metadata.
public struct JournalLogHandler: LogHandler {
    /// The logger label (sent as `LOGGER_LABEL`).
    public let label: String
    /// `SYSLOG_IDENTIFIER` of every entry.
    public var identifier: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let writer: JournalWriter

    /// Creates a handler; `writer` defaults to the real journald.
    public init(
        label: String,
        identifier: String = JournalRecord.defaultIdentifier,
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        writer: JournalWriter = .system
    ) {
        self.label = label
        self.identifier = identifier
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = MetadataFlattening.merge(handler: metadata, provider: metadataProvider, event: event.metadata)
        let fields = JournalRecord.fields(
            level: event.level,
            message: event.message.description,
            metadata: merged,
            source: event.source,
            file: event.file,
            function: event.function,
            line: event.line,
            label: label,
            identifier: identifier,
            error: event.error
        )
        writer.send(fields)
    }
}
