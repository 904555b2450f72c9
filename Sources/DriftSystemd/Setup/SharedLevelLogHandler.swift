import Logging
import Synchronization

/// The process-wide log level of the daemon's loggers, changed at runtime by `[log] level` on reload.
public final class LogLevelControl: Sendable {
    public static let shared = LogLevelControl(.info)
    private let raw: Atomic<UInt8>

    public init(_ level: Logger.Level) { raw = Atomic(Self.code(level)) }

    public var level: Logger.Level {
        get { Logger.Level.allCases[Int(raw.load(ordering: .relaxed))] }
        set { raw.store(Self.code(newValue), ordering: .relaxed) }
    }

    private static func code(_ level: Logger.Level) -> UInt8 { UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 2) }
}

/// Wraps a handler so that its level follows a `LogLevelControl` (until a caller sets one explicitly,
/// as `Logger.logLevel = .critical` does for a quiet logger).
public struct SharedLevelLogHandler: LogHandler {
    public var inner: any LogHandler
    let control: LogLevelControl
    private var fixed: Logger.Level?

    public init(_ inner: any LogHandler, control: LogLevelControl) {
        self.inner = inner
        self.control = control
    }

    public var logLevel: Logger.Level {
        get { fixed ?? control.level }
        set { fixed = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        inner.log(event: event)
    }
}
