import Foundation
import Logging
import Synchronization

/// Collects every log record of the loggers it makes (swift-log's global bootstrap is left alone),
/// so tests can assert on what the code said: clear errors, announcements, and no secrets.
public final class LogCapture: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
        public var label: String
        public var source: String
        public var atMs: Int64

        /// The message and every metadata value, as one searchable text.
        public var fullText: String {
            ([message] + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        }

        /// `LEVEL message key=value ... source=SOURCE`.
        public var line: String { "\(level) \(fullText) source=\(source)" }
    }

    public init() {}

    private let store = Mutex<[Record]>([])
    /// Called synchronously for each record, on the logging thread (e.g. to check the state file at that instant).
    private let observer = Mutex<(@Sendable (Record) -> Void)?>(nil)

    /// A logger writing into this capture (trace level by default: everything is kept).
    public func logger(_ label: String = "akua-driftd", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { label in CaptureHandler(label: label, capture: self) }
        logger.logLevel = level
        return logger
    }

    public var records: [Record] { store.withLock { $0 } }

    /// Every record rendered as one line.
    public var lines: [String] { records.map(\.line) }

    public func observe(_ body: (@Sendable (Record) -> Void)?) { observer.withLock { $0 = body } }

    func append(_ record: Record) {
        let body = observer.withLock { $0 }
        body?(record)
        store.withLock { $0.append(record) }
    }

    /// Transition announcements (one per transition, with `drift_event_id`).
    public var announcements: [Record] { records.filter { $0.metadata["drift_event_id"] != nil && $0.metadata["drift_state"] != nil } }

    public func contains(_ level: Logger.Level, _ text: String) -> Bool {
        records.contains { $0.level == level && $0.message.contains(text) }
    }
}

struct CaptureHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        capture.append(LogCapture.Record(
            level: event.level, message: event.message.description,
            metadata: merged.mapValues { "\($0)" }, label: label, source: event.source,
            atMs: Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000))
    }
}
