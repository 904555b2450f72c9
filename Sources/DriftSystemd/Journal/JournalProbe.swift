#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Backs the hidden `akua-driftd journal-probe` subcommand: emits known entries so the real-journald
/// test (Tests/DriftSystemdTests, run inside Tests/Support/journal-sandbox.sh) can check what journald stored.
public enum JournalProbe {
    /// `MESSAGE_ID` of the entry sent through `JournalWriter`.
    public static let writerMessageID = "5b0e3e8c2d6f4c0a9a51f0c3c6d2b7e1"

    /// Sends two entries with `SYSLOG_IDENTIFIER=identifier`:
    /// 1. through `JournalLogHandler` at warning level: `MESSAGE=message`, each `--field K=V` as
    ///    metadata `K: V` (so sanitized to an UPPERCASE name), plus nested metadata `probe.pid`
    ///    (field `PROBE_PID`) and `probe.entry=handler` (`PROBE_ENTRY`);
    /// 2. through `JournalWriter` at notice level: `MESSAGE="<message> (writer)"`,
    ///    `MESSAGE_ID=writerMessageID`, `PROBE_ENTRY=writer`, then each field with its name sanitized only.
    ///
    /// `fields` are `KEY=VALUE` strings (split at the first `=`; values may hold `=` and newlines).
    /// Returns the exit status: 0 when journald took both entries, 1 when a send failed,
    /// 64 (EX_USAGE) for a field without `=` (nothing is sent then). Prints one summary line.
    public static func run(message: String, fields: [String], identifier: String = JournalRecord.defaultIdentifier)
        -> Int32
    {
        var pairs: [(key: String, value: String)] = []
        for field in fields {
            guard let equals = field.firstIndex(of: "="), equals != field.startIndex else {
                StderrLogHandler.writeAll("journal-probe: --field must be KEY=VALUE, got \"\(field)\"\n", to: 2)
                return 64
            }
            pairs.append((String(field[..<equals]), String(field[field.index(after: equals)...])))
        }

        let failuresBefore = JournalWriter.failureCount
        var metadata: Logger.Metadata = ["probe": ["pid": "\(getpid())", "entry": "handler"]]
        for pair in pairs { metadata[pair.key] = .string(pair.value) }
        let handler = JournalLogHandler(
            label: "akua-driftd.journal-probe", identifier: identifier, logLevel: .trace, metadataProvider: nil)
        let logger = Logger(label: handler.label) { _ in handler }
        logger.warning("\(message)", metadata: metadata)
        let handlerOK = JournalWriter.failureCount == failuresBefore

        let writerOK = JournalWriter.system.send(
            message: "\(message) (writer)",
            priority: .notice,
            identifier: identifier,
            fields: [JournalField("MESSAGE_ID", writerMessageID), JournalField("PROBE_ENTRY", "writer")]
                + pairs.map { JournalField($0.key, $0.value) }
        )

        let ok = handlerOK && writerOK
        let summary = ok
            ? "journal-probe: sent 2 entries as \(identifier)\n"
            : "journal-probe: journald did not accept the entries (handler: \(handlerOK), writer: \(writerOK))\n"
        StderrLogHandler.writeAll(summary, to: ok ? 1 : 2)
        return ok ? 0 : 1
    }
}
