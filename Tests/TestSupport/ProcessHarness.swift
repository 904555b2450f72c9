import Foundation
import Testing

/// Paths of the package and its built binaries (tests run the real executables).
public enum PackagePaths {
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/", !FileManager.default.fileExists(atPath: url.path + "/Package.swift") {
            url.deleteLastPathComponent()
        }
        return url.path
    }()

    /// `.build/debug/NAME`; the test fails with a clear message when it was not built.
    public static func binary(_ name: String) throws -> String {
        let path = root + "/.build/debug/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            Issue.record("\(path) is missing: run `swift build --product \(name)` (make test does) before the tests")
            throw HarnessError("missing binary \(name)")
        }
        return path
    }

    public static var journalSandbox: String { root + "/Tests/Support/journal-sandbox.sh" }
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ text: String) { description = text }
}

/// A temporary directory removed at the end of the test.
public final class TemporaryDirectory {
    public let path: String
    public init(_ prefix: String = "akua-driftd-test") throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> String { path + "/" + name }
    public func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let target = file(name)
        guard FileManager.default.createFile(atPath: target, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw HarnessError("cannot write \(target)")
        }
        return target
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A child process with captured output, stopped for sure when the test ends.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    public let stdoutPath: String
    public let stderrPath: String

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, logDirectory: String, name: String) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        stdoutPath = logDirectory + "/\(name).stdout"
        stderrPath = logDirectory + "/\(name).stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    public func signal(_ signal: Int32) { if process.isRunning { kill(process.processIdentifier, signal) } }

    /// Waits (bounded) for the process to exit and returns its status.
    @discardableResult
    public func waitForExit(timeout: Duration) async throws -> Int32 {
        do {
            try await eventually(timeout: timeout, "process \(process.executableURL?.lastPathComponent ?? "?") \(process.arguments?.prefix(3).joined(separator: " ") ?? "") exits") { !self.process.isRunning }
        } catch {
            Issue.record("stderr of the process that did not exit:\n\(stderr.suffix(3000))")
            throw error
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Polls `condition` every 50 ms until it holds, failing with `what` after `timeout`.
/// (A bounded wait for an observable condition, never a fixed sleep.)
public func eventually(timeout: Duration, _ what: String, _ condition: () throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try condition() { return }
        if clock.now >= deadline {
            Issue.record("timed out after \(timeout) waiting until \(what)")
            throw HarnessError("timed out waiting until \(what)")
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Reads a journal dump (`journalctl -o json`, one object per line) written by journal-sandbox.sh.
public func readJournal(_ path: String) -> [[String: String]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        var entry: [String: String] = [:]
        for (key, value) in object {
            if let text = value as? String { entry[key] = text }
            else if let bytes = value as? [Int] { entry[key] = String(decoding: bytes.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self) }
        }
        return entry
    }
}

extension ChildProcess {
    /// Runs `executable` to completion (bounded by `timeout`) and returns its exit status and output.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, logDirectory: String,
        name: String, timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments, environment: environment, logDirectory: logDirectory, name: name)
        let status = try await child.waitForExit(timeout: timeout)
        return (status, child.stdout, child.stderr)
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released), for servers started later.
/// Drawn below the kernel's ephemeral range (32768-60999 on Linux), so that the servers and clients other
/// tests start meanwhile (which bind port 0) cannot take it before the caller does.
public func freeLoopbackPort() throws -> Int {
    #if os(Linux)
    let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    let streamType = SOCK_STREAM
    #endif
    for _ in 0..<200 {
        let port = UInt16.random(in: 10_000...32_000)
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound == 0 { return Int(port) }
    }
    throw HarnessError("no free port below the ephemeral range after 200 tries")
}
