#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DriftSystemd
import Foundation
import Testing

/// Tests against a real systemd-journald, started by Tests/Support/journal-sandbox.sh in a private
/// mount namespace. They need root, unshare and systemd-journald, and are skipped otherwise.
@Suite("Real journald (journal-sandbox.sh)", .enabled(if: JournalSandbox.isAvailable, "needs root, unshare and systemd-journald"))
struct JournalSandboxTests {
    @Test("the sandbox captures entries, passes stdin and the exit status through")
    func sandboxSelfTest() async throws {
        let run = try await JournalSandbox.run([
            "/bin/sh", "-c",
            "echo \"hello from systemd-cat\" | systemd-cat -t drift-sandbox-selftest -p warning; "
                + "logger --socket /run/systemd/journal/dev-log -t drift-sandbox-selftest -p user.notice via-dev-log; "
                + "test \"$JOURNAL_SANDBOX\" = 1 || exit 9; exit 3",
        ])
        #expect(run.status == 3, "stderr: \(run.stderr)")
        let ours = run.entries.filter { $0["SYSLOG_IDENTIFIER"] == ["drift-sandbox-selftest"] }
        // Two writers over two transports (stdout stream, syslog socket): journald may store them in either order.
        let byMessage = Dictionary(ours.map { (($0["MESSAGE"] ?? []).joined(), $0) }, uniquingKeysWith: { first, _ in first })
        #expect(Set(byMessage.keys) == ["hello from systemd-cat", "via-dev-log"] && ours.count == 2)
        #expect(byMessage["hello from systemd-cat"]?["PRIORITY"] == ["4"])
        #expect(byMessage["via-dev-log"]?["PRIORITY"] == ["5"])
        // Our journald only: nothing from the kernel ring buffer.
        #expect(!run.entries.contains { $0["_TRANSPORT"] == ["kernel"] })
    }

    @Test("akua-driftd journal-probe: JournalLogHandler and JournalWriter entries as journald stores them")
    func probe() async throws {
        let binary = JournalSandbox.packageRoot + "/.build/debug/akua-driftd"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("\(binary) is missing: build it first (`swift build --product akua-driftd`)")
            return
        }
        let message = "probe \(UUID().uuidString)"
        let run = try await JournalSandbox.run([
            binary, "journal-probe", "--message", message,
            "--field", "request.id=42",
            "--field", "1st-key=first",
            "--field", "note=line one\nline two",
            "--field", "equation=a=b",
        ])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let ours = run.entries.filter { $0["SYSLOG_IDENTIFIER"] == ["akua-driftd"] }
        try #require(ours.count == 2, "entries: \(run.entries.map { $0["MESSAGE"] ?? [] })")

        let handler = try #require(ours.first { $0["MESSAGE"] == [message] })
        #expect(handler["PRIORITY"] == ["4"])
        #expect(handler["CODE_FILE"] == ["DriftSystemd/JournalProbe.swift"])
        #expect(handler["CODE_LINE"]?.first.flatMap { Int($0) } != nil)
        #expect(handler["CODE_FUNC"] == ["run(message:fields:identifier:)"])
        #expect(handler["LOGGER_LABEL"] == ["akua-driftd.journal-probe"])
        #expect(handler["REQUEST_ID"] == ["42"])
        #expect(handler["X_1ST_KEY"] == ["first"])
        #expect(handler["NOTE"] == ["line one\nline two"])
        #expect(handler["EQUATION"] == ["a=b"])
        #expect(handler["PROBE_ENTRY"] == ["handler"])
        #expect(handler["PROBE_PID"] == handler["_PID"])

        let writer = try #require(ours.first { $0["MESSAGE"] == ["\(message) (writer)"] })
        #expect(writer["PRIORITY"] == ["5"])
        #expect(writer["MESSAGE_ID"] == [JournalProbe.writerMessageID])
        #expect(writer["PROBE_ENTRY"] == ["writer"])
        #expect(writer["REQUEST_ID"] == ["42"])
        #expect(writer["X_1ST_KEY"] == ["first"])
        #expect(writer["NOTE"] == ["line one\nline two"])
        #expect(writer["CODE_FILE"] == nil)
    }
}

/// Runs commands inside Tests/Support/journal-sandbox.sh and reads back the journal dump.
enum JournalSandbox {
    /// The package root, found from this file's path.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/", !FileManager.default.fileExists(atPath: url.path + "/Package.swift") {
            url.deleteLastPathComponent()
        }
        return url.path
    }()

    static var script: String { packageRoot + "/Tests/Support/journal-sandbox.sh" }

    /// Root, unshare and systemd-journald present (the script itself re-checks and exits 77 if not).
    static var isAvailable: Bool {
        let files = FileManager.default
        return geteuid() == 0
            && ["/usr/bin/unshare", "/bin/unshare"].contains { files.isExecutableFile(atPath: $0) }
            && ["/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"].contains { files.isExecutableFile(atPath: $0) }
    }

    /// One journal entry: field name to values (journald allows repeated fields; usually one value).
    typealias Entry = [String: [String]]

    struct Run {
        var status: Int32
        var stderr: String
        var entries: [Entry]
    }

    /// Runs `command` in the sandbox (bounded by the script's --timeout) and parses the dump.
    static func run(_ command: [String], timeout: Int = 60) async throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drift-journal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("journal.jsonl").path
        let stderrPath = directory.appendingPathComponent("stderr").path
        FileManager.default.createFile(atPath: stderrPath, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["--timeout", String(timeout), output, "--"] + command
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        if status == 77 { Issue.record("journal-sandbox.sh skipped although the prerequisites look present: \(stderr)") }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        if text.isEmpty { Issue.record("no journal dump written; sandbox stderr: \(stderr)") }
        return Run(status: status, stderr: stderr, entries: try text.split(separator: "\n").map(parse))
    }

    /// One line of `journalctl -o json`: values are strings, byte arrays (binary or multi-line
    /// values) or arrays of those (repeated fields).
    static func parse(_ line: Substring) throws -> Entry {
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt)
        }
        func text(_ value: Any) -> String? {
            if let string = value as? String { return string }
            if let bytes = value as? [Int] { return String(decoding: bytes.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self) }
            return nil
        }
        var entry: Entry = [:]
        for (name, value) in object {
            if let single = text(value) {
                entry[name] = [single]
            } else if let many = value as? [Any] {
                entry[name] = many.compactMap(text)
            }
        }
        return entry
    }
}
