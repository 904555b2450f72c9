import DriftSystemd
import Logging
import Testing

@Suite("LogTarget")
struct LogTargetTests {
    @Test("auto picks journal only when systemd started us", arguments: [
        ([String: String](), LogTarget.stderr),
        (["JOURNAL_STREAM": "8:12345"], .journal),
        (["INVOCATION_ID": "0f6c2d1e5a7b4c3d9e8f7a6b5c4d3e2f"], .journal),
        (["JOURNAL_STREAM": "", "INVOCATION_ID": ""], .stderr),
        (["TERM": "xterm", "HOME": "/root"], .stderr),
    ])
    func auto(environment: [String: String], expected: LogTarget) {
        #expect(LogTarget.auto.resolve(environment: environment) == expected)
    }

    @Test("explicit targets ignore the environment")
    func explicit() {
        #expect(LogTarget.journal.resolve(environment: [:]) == .journal)
        #expect(LogTarget.stderr.resolve(environment: ["INVOCATION_ID": "x"]) == .stderr)
    }

    @Test("raw values are the --log-target spellings")
    func rawValues() {
        #expect(LogTarget.allCases.map(\.rawValue) == ["auto", "journal", "stderr"])
        #expect(LogTarget(rawValue: "journal") == .journal)
        #expect(LogTarget(rawValue: "syslog") == nil)
    }

    @Test("makeHandler builds the handler of the target with the level")
    func handlers() {
        let journal = LoggingSetup.makeHandler(target: .journal, label: "a", level: .debug)
        let stderr = LoggingSetup.makeHandler(target: .stderr, label: "b", level: .error, identifier: "x")
        #expect(journal is JournalLogHandler)
        #expect(journal.logLevel == .debug)
        #expect((stderr as? StderrLogHandler)?.identifier == "x")
        #expect(stderr.logLevel == .error)
    }
}
