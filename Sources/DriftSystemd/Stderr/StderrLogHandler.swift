#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// A swift-log handler for humans: one line per record on stderr,
/// `2026-11-29T11:30:00Z warning akua-driftd: message key=value ...` (UTC, metadata sorted by key).
public struct StderrLogHandler: LogHandler {
    /// The logger label (not printed; kept for symmetry with `JournalLogHandler`).
    public let label: String
    /// The program name printed before the message.
    public var identifier: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let fileDescriptor: Int32

    /// Creates a handler writing to `fileDescriptor` (stderr unless a test passes a pipe).
    public init(
        label: String,
        identifier: String = JournalRecord.defaultIdentifier,
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        fileDescriptor: Int32 = 2
    ) {
        self.label = label
        self.identifier = identifier
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = MetadataFlattening.merge(handler: metadata, provider: metadataProvider, event: event.metadata)
        if let error = event.error, merged["error"] == nil {
            merged["error"] = .string(String(describing: error))
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let line = Self.format(
            unixSeconds: Int64(now.tv_sec),
            level: event.level,
            identifier: identifier,
            message: event.message.description,
            metadata: merged
        )
        Self.writeAll(line + "\n", to: fileDescriptor)
    }

    /// The line for one record, without the trailing newline.
    ///
    /// Newlines in the message are escaped (`\n`) so a record stays on one line. Nested metadata keys
    /// are joined with `.`; values with spaces, quotes, `=` or control characters are double-quoted
    /// with `\"`, `\\`, `\n`, `\r`, `\t` escapes.
    public static func format(
        unixSeconds: Int64,
        level: Logger.Level,
        identifier: String,
        message: String,
        metadata: Logger.Metadata
    ) -> String {
        var line = "\(iso8601(unixSeconds: unixSeconds)) \(level.rawValue) \(identifier): \(escapeControls(message))"
        for leaf in MetadataFlattening.leaves(metadata) {
            line += " \(leaf.path.joined(separator: "."))=\(quoted(leaf.value))"
        }
        return line
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    public static func iso8601(unixSeconds: Int64) -> String {
        var time = time_t(unixSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
    }

    private static func escapeControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar == "\u{7F}":
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains {
            $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.value < 0x20 || $0 == "\u{7F}"
        }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out += escapeControls(String(scalar))
            }
        }
        return out + "\""
    }

    /// Writes the whole string with as few `write(2)` calls as possible (one, normally), retrying on EINTR.
    static func writeAll(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            guard var pointer = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = write(fd, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                pointer += written
                remaining -= written
            }
        }
    }
}
