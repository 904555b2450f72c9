#if canImport(CSystemd)
import CSystemd
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Sends structured entries to journald with `sd_journal_sendv` (binary-safe: values may hold newlines).
///
/// Never throws and never crashes: when journald is absent (or libsystemd is not available on this
/// platform) the entry is dropped, `failureCount` grows and a single warning goes to stderr.
public struct JournalWriter: Sendable {
    /// Delivers sanitized fields; returns 0 on success or a negative errno, like `sd_journal_sendv`.
    public typealias Sink = @Sendable ([JournalField]) -> Int32

    private let sink: Sink

    /// A writer with a custom sink (tests capture entries this way).
    public init(sink: @escaping Sink) {
        self.sink = sink
    }

    /// The writer that talks to the local journald through libsystemd.
    public static let system = JournalWriter(sink: JournalWriter.sendToJournald)

    /// Whether this build can talk to journald at all (libsystemd was available at compile time).
    public static var isSupported: Bool {
        #if canImport(CSystemd)
        true
        #else
        false
        #endif
    }

    /// Sends one entry; field names are passed through `JournalField.sanitizedName` (valid names are
    /// unchanged). Returns whether the entry was handed to journald (false when its socket is missing
    /// or sending failed). An empty entry is not sent. Like every journald client this can block only
    /// if journald is alive but not reading its socket.
    @discardableResult
    public func send(_ fields: [JournalField]) -> Bool {
        guard !fields.isEmpty else { return false }
        let sanitized = fields.map { JournalField(JournalField.sanitizedName($0.name), $0.value) }
        return sink(sanitized) >= 0
    }

    /// Sends an entry made of `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, then `fields` in order
    /// (the daemon's transition entries: `MESSAGE_ID`, `DRIFT_*`, ...).
    @discardableResult
    public func send(
        message: String,
        priority: JournalPriority,
        identifier: String = JournalRecord.defaultIdentifier,
        fields: [JournalField]
    ) -> Bool {
        send(
            [
                JournalField("MESSAGE", message),
                JournalField("PRIORITY", priority.fieldValue),
                JournalField("SYSLOG_IDENTIFIER", identifier),
            ] + fields
        )
    }

    // MARK: - Failure accounting

    private static let failures = Atomic<Int>(0)
    private static let warned = Atomic<Bool>(false)

    /// How many entries the system writer failed to deliver since the process started.
    public static var failureCount: Int { failures.load(ordering: .relaxed) }

    private static func recordFailure(errno code: Int32) {
        failures.add(1, ordering: .relaxed)
        let (exchanged, _) = warned.compareExchange(expected: false, desired: true, ordering: .relaxed)
        guard exchanged else { return }
        let reason = code == 0 ? "not supported on this platform" : String(cString: strerror(code))
        let line = "journald unavailable (sd_journal_sendv: \(reason)); journal log entries are dropped\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    // MARK: - libsystemd

    /// journald's native protocol socket (the path libsystemd sends to).
    public static let journalSocketPath = "/run/systemd/journal/socket"

    @Sendable
    private static func sendToJournald(_ fields: [JournalField]) -> Int32 {
        #if canImport(CSystemd)
        // libsystemd reports success when the socket is missing ("fail silently"): check it ourselves
        // so that dropped entries are counted.
        guard access(journalSocketPath, F_OK) == 0 else {
            recordFailure(errno: ENOENT)
            return -ENOENT
        }
        // All "NAME=value" byte strings in one buffer, one iovec per field pointing into it.
        var buffer: [UInt8] = []
        var spans: [(offset: Int, count: Int)] = []
        spans.reserveCapacity(fields.count)
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            spans.append((start, buffer.count - start))
        }
        let result = buffer.withUnsafeMutableBytes { raw -> Int32 in
            let base = raw.baseAddress!
            let vectors = spans.map { iovec(iov_base: base + $0.offset, iov_len: $0.count) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
        if result < 0 { recordFailure(errno: -result) }
        return result
        #else
        recordFailure(errno: 0)
        return -1
        #endif
    }
}
