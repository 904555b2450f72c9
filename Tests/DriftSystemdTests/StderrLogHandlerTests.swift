#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DriftSystemd
import Logging
import Testing

@Suite("StderrLogHandler")
struct StderrLogHandlerTests {
    private let time: Int64 = 1_795_951_800  // 2026-11-29T11:30:00Z

    @Test("one line: UTC timestamp, level, identifier, message, metadata sorted")
    func format() {
        let line = StderrLogHandler.format(
            unixSeconds: time, level: .warning, identifier: "akua-driftd", message: "machine drifted",
            metadata: ["state": "drifted", "machine_id": "mch_1", "attempt": .stringConvertible(2)])
        #expect(line == "2026-11-29T11:30:00Z warning akua-driftd: machine drifted attempt=2 machine_id=mch_1 state=drifted")
    }

    @Test("timestamps", arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (Int64(951_868_799), "2000-02-29T23:59:59Z"),
        (Int64(1_795_951_800), "2026-11-29T11:30:00Z"),
    ])
    func timestamps(seconds: Int64, expected: String) {
        #expect(StderrLogHandler.iso8601(unixSeconds: seconds) == expected)
    }

    @Test("newlines are escaped, awkward values quoted, nested keys dotted")
    func escaping() {
        let line = StderrLogHandler.format(
            unixSeconds: time, level: .error, identifier: "akua-driftd", message: "first\nsecond",
            metadata: [
                "reason": "connection refused",
                "query": "a=b",
                "empty": "",
                "quote": "say \"hi\"",
                "multi": "x\ny",
                "req": ["id": "7", "peer": ["ip": "10.0.0.1"]],
                "attributes": ["cpu", "image"],
            ])
        #expect(line == #"2026-11-29T11:30:00Z error akua-driftd: first\nsecond attributes=cpu,image empty="" multi="x\ny" query="a=b" quote="say \"hi\"" reason="connection refused" req.id=7 req.peer.ip=10.0.0.1"#)
    }

    @Test("the handler writes one line per record with merged metadata")
    func handlerWrites() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var logger = Logger(label: "t") { label in
            StderrLogHandler(label: label, identifier: "drift-test", fileDescriptor: fds[1])
        }
        logger[metadataKey: "component"] = "engine"
        logger.debug("not shown")
        logger.notice("first", metadata: ["n": "1"])
        logger.error("second")
        close(fds[1])

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &chunk, chunk.count)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        // Strip the (current) timestamp.
        let rest = lines.map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" }
        #expect(rest == ["notice drift-test: first component=engine n=1", "error drift-test: second component=engine"])
        #expect(lines.allSatisfy { $0.count > 21 && $0[$0.index($0.startIndex, offsetBy: 19)] == "Z" })
    }
}
