import Logging

/// Syslog priorities as journald stores them in `PRIORITY=` (0 emerg ... 7 debug).
public enum JournalPriority: Int, Sendable, CaseIterable {
    case emergency = 0
    case alert = 1
    case critical = 2
    case error = 3
    case warning = 4
    case notice = 5
    case info = 6
    case debug = 7

    /// Maps a swift-log level: trace/debug 7, info 6, notice 5, warning 4, error 3, critical 2.
    public init(_ level: Logger.Level) {
        switch level {
        case .trace, .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }

    /// The decimal digit journald expects as the `PRIORITY=` value.
    public var fieldValue: String { String(rawValue) }
}
