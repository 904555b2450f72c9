import DriftSystemd
import Foundation
import Logging
import Synchronization
import Testing

/// Collects what a `JournalWriter` would send.
final class CapturedEntries: Sendable {
    private let entries = Mutex<[[JournalField]]>([])

    var all: [[JournalField]] { entries.withLock { $0 } }

    var writer: JournalWriter {
        JournalWriter { fields in
            self.entries.withLock { $0.append(fields) }
            return 0
        }
    }
}

extension Array where Element == JournalField {
    subscript(field name: String) -> String? { first { $0.name == name }?.value }
}

@Suite("JournalLogHandler and JournalWriter")
struct JournalLogHandlerTests {
    @Test("a log call becomes one entry with the call site in CODE_*")
    func logCall() throws {
        let captured = CapturedEntries()
        let logger = Logger(label: "akua-driftd.test") { label in
            JournalLogHandler(label: label, writer: captured.writer)
        }
        logger.warning("machine drifted", metadata: ["machine_id": "mch_1"]); let line = #line
        let entry = try #require(captured.all.first)
        #expect(captured.all.count == 1)
        #expect(entry[field: "MESSAGE"] == "machine drifted")
        #expect(entry[field: "PRIORITY"] == "4")
        #expect(entry[field: "SYSLOG_IDENTIFIER"] == "akua-driftd")
        #expect(entry[field: "CODE_FILE"] == "DriftSystemdTests/JournalLogHandlerTests.swift")
        #expect(entry[field: "CODE_LINE"] == String(line))
        #expect(entry[field: "CODE_FUNC"] == "logCall()")
        #expect(entry[field: "LOGGER_LABEL"] == "akua-driftd.test")
        #expect(entry[field: "MACHINE_ID"] == "mch_1")
    }

    @Test("records below the logger's level are not sent")
    func levelFilter() {
        let captured = CapturedEntries()
        var logger = Logger(label: "t") { JournalLogHandler(label: $0, writer: captured.writer) }
        logger.logLevel = .notice
        logger.info("dropped")
        logger.notice("kept")
        #expect(captured.all.map { $0[field: "MESSAGE"] } == ["kept"])
    }

    @Test("handler metadata, provider metadata and call metadata merge; the call wins")
    func metadataLayers() throws {
        let captured = CapturedEntries()
        let provider = Logger.MetadataProvider { ["trace": "t-1", "layer": "provider"] }
        var logger = Logger(label: "t") {
            JournalLogHandler(label: $0, identifier: "probe-id", metadataProvider: provider, writer: captured.writer)
        }
        logger[metadataKey: "component"] = "engine"
        logger[metadataKey: "layer"] = "handler"
        logger.info("x", metadata: ["layer": "call"])
        let entry = try #require(captured.all.first)
        #expect(entry[field: "SYSLOG_IDENTIFIER"] == "probe-id")
        #expect(entry[field: "COMPONENT"] == "engine")
        #expect(entry[field: "TRACE"] == "t-1")
        #expect(entry[field: "LAYER"] == "call")
    }

    @Test("JournalWriter sends MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, then the fields, names sanitized")
    func writerEntry() throws {
        let captured = CapturedEntries()
        let ok = captured.writer.send(
            message: "machine web-1 (mch_x) drifted: 1 attribute differs (cpu)",
            priority: .warning,
            fields: [
                JournalField("MESSAGE_ID", "dc7614e992424aadb1f508c0d9b24d0e"),
                JournalField("DRIFT_MACHINE_ID", "mch_x"),
                JournalField("drift-attributes", "cpu"),
            ])
        #expect(ok)
        let entry = try #require(captured.all.first)
        #expect(entry.map(\.description) == [
            "MESSAGE=machine web-1 (mch_x) drifted: 1 attribute differs (cpu)",
            "PRIORITY=4",
            "SYSLOG_IDENTIFIER=akua-driftd",
            "MESSAGE_ID=dc7614e992424aadb1f508c0d9b24d0e",
            "DRIFT_MACHINE_ID=mch_x",
            "DRIFT_ATTRIBUTES=cpu",
        ])
    }

    @Test("an empty entry is not sent; a failing sink reports false")
    func writerResults() {
        let captured = CapturedEntries()
        #expect(captured.writer.send([]) == false)
        #expect(captured.all.isEmpty)
        let failing = JournalWriter { _ in -111 }
        #expect(failing.send([JournalField("MESSAGE", "x")]) == false)
    }

    @Test(
        "without journald the system writer returns false at once and counts the failure",
        .enabled(if: !FileManager.default.fileExists(atPath: JournalWriter.journalSocketPath), "a journald is running")
    )
    func noJournald() {
        let before = JournalWriter.failureCount
        let clock = ContinuousClock()
        let start = clock.now
        let ok = JournalWriter.system.send([JournalField("MESSAGE", "DriftSystemdTests: nobody listens")])
        #expect(ok == false)
        #expect(clock.now - start < .seconds(1))
        #expect(JournalWriter.failureCount > before)
        // A Logger on the real writer must not crash either.
        let logger = Logger(label: "t") { JournalLogHandler(label: $0) }
        logger.error("still fine")
        #expect(JournalWriter.failureCount > before + 1)
    }
}
