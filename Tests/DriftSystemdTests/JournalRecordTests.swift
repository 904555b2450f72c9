import DriftSystemd
import Logging
import Testing

@Suite("Journal field building")
struct JournalRecordTests {
    private func fields(
        _ level: Logger.Level = .info,
        _ message: String = "hello",
        metadata: Logger.Metadata? = nil,
        error: (any Error)? = nil
    ) -> [JournalField] {
        JournalRecord.fields(
            level: level, message: message, metadata: metadata, source: "DriftDaemon",
            file: "DriftDaemon/Engine.swift", function: "tick(now:)", line: 42, label: "akua-driftd.engine",
            error: error)
    }

    private func value(_ name: String, in fields: [JournalField]) -> String? {
        let matches = fields.filter { $0.name == name }
        #expect(matches.count <= 1, "field \(name) appears \(matches.count) times")
        return matches.first?.value
    }

    @Test("swift-log levels map to syslog priorities", arguments: [
        (Logger.Level.trace, "7"), (.debug, "7"), (.info, "6"), (.notice, "5"),
        (.warning, "4"), (.error, "3"), (.critical, "2"),
    ])
    func priority(level: Logger.Level, expected: String) {
        #expect(value("PRIORITY", in: fields(level)) == expected)
        #expect(JournalPriority(level).fieldValue == expected)
    }

    @Test("standard fields come first, in a fixed order")
    func standardFields() {
        let built = fields(.warning, "disk almost full")
        #expect(built.map(\.description) == [
            "MESSAGE=disk almost full",
            "PRIORITY=4",
            "SYSLOG_IDENTIFIER=akua-driftd",
            "CODE_FILE=DriftDaemon/Engine.swift",
            "CODE_LINE=42",
            "CODE_FUNC=tick(now:)",
            "LOGGER_LABEL=akua-driftd.engine",
            "LOGGER_SOURCE=DriftDaemon",
        ])
    }

    @Test("SYSLOG_IDENTIFIER is configurable")
    func identifier() {
        let built = JournalRecord.fields(
            level: .info, message: "m", metadata: nil, source: "", file: "f", function: "g", line: 1,
            identifier: "other-daemon")
        #expect(value("SYSLOG_IDENTIFIER", in: built) == "other-daemon")
        #expect(value("LOGGER_LABEL", in: built) == nil)
        #expect(value("LOGGER_SOURCE", in: built) == nil)
    }

    @Test("metadata keys become UPPERCASE fields, sorted")
    func metadataFields() {
        let built = fields(metadata: ["machine_id": "mch_1", "attempt": "3", "latencyMs": .stringConvertible(12)])
        #expect(built.suffix(3).map(\.description) == ["ATTEMPT=3", "LATENCYMS=12", "MACHINE_ID=mch_1"])
    }

    @Test("field names are sanitized", arguments: [
        ("machine_id", "MACHINE_ID"),
        ("MESSAGE_ID", "MESSAGE_ID"),
        ("request.id", "REQUEST_ID"),
        ("http-status", "HTTP_STATUS"),
        ("with space", "WITH_SPACE"),
        ("1st", "X_1ST"),
        ("_secret", "X_SECRET"),
        ("__x", "X__X"),
        ("café", "CAF_"),
        ("", "X"),
    ])
    func sanitizing(key: String, expected: String) {
        #expect(JournalField.sanitizedName(key) == expected)
        #expect(JournalField.isValidName(expected))
    }

    @Test("names are cut to 64 characters")
    func longNames() {
        let name = JournalField.sanitizedName(String(repeating: "k", count: 100))
        #expect(name == String(repeating: "K", count: 64))
    }

    @Test("nested metadata is flattened with _ between the keys")
    func nested() {
        let built = fields(metadata: [
            "req": ["id": "7", "peer": ["ip": "10.0.0.1", "port": "443"]],
            "attributes": ["cpu", "image", "labels"],
            "hops": [["host": "a"], ["host": "b"]],
            "empty": [:],
        ])
        let metadataFields = built.dropFirst(8).map(\.description)
        #expect(metadataFields == [
            "ATTRIBUTES=cpu,image,labels",
            "HOPS_0_HOST=a",
            "HOPS_1_HOST=b",
            "REQ_ID=7",
            "REQ_PEER_IP=10.0.0.1",
            "REQ_PEER_PORT=443",
        ])
    }

    @Test("metadata never replaces the standard fields; clashing names get a suffix")
    func collisions() {
        let built = fields(metadata: ["message": "shadow", "priority": "0", "a-b": "1", "a_b": "2"])
        #expect(value("MESSAGE", in: built) == "hello")
        #expect(value("PRIORITY", in: built) == "6")
        #expect(value("MESSAGE_2", in: built) == "shadow")
        #expect(value("PRIORITY_2", in: built) == "0")
        #expect(value("A_B", in: built) == "1")
        #expect(value("A_B_2", in: built) == "2")
        #expect(Set(built.map(\.name)).count == built.count)
    }

    @Test("values keep newlines and '=' verbatim")
    func binarySafeValues() {
        let built = fields(.info, "line one\nline two", metadata: ["query": "a=b\nc=d"])
        #expect(value("MESSAGE", in: built) == "line one\nline two")
        #expect(value("QUERY", in: built) == "a=b\nc=d")
    }

    @Test("an attached error becomes ERROR")
    func error() {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        let built = fields(metadata: ["error": "from metadata"], error: Boom())
        #expect(value("ERROR", in: built) == "boom")
        #expect(value("ERROR_2", in: built) == "from metadata")
    }
}
