import Foundation
import Synchronization

/// An oracle for webhook deliveries that shares no code with akua-driftd: a long-running
/// `Tests/Support/webhook-check.py` (Python's hmac/hashlib for the Standard Webhooks signature,
/// python3-jsonschema for `deploy/webhook-payload.schema.json`), asked once per request over a pipe.
public final class IndependentWebhookCheck: @unchecked Sendable {
    public struct Verdict: Sendable {
        /// Python's HMAC-SHA256 over `id.timestamp.body` matches one `v1,` entry of the header.
        public var signatureOK: Bool
        /// Why the body does not validate against the schema (empty: valid).
        public var schemaErrors: [String]
    }

    public static var script: String { PackagePaths.root + "/Tests/Support/webhook-check.py" }
    public static var schema: String { PackagePaths.root + "/deploy/webhook-payload.schema.json" }
    /// Debian's interpreter, where python3-jsonschema is installed (a pyenv or venv python may lack it).
    public static var python: String {
        TestPreconditions.executable(["/usr/bin/python3", "/usr/local/bin/python3"]) ?? "/usr/bin/python3"
    }

    private let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private let stderrPath: String
    private let state = Mutex<(pending: [CheckedContinuation<Verdict, Never>], dead: String?)>(([], nil))

    /// Starts the checker for deliveries signed with `secret` and waits until it has loaded the schema.
    public init(secret: String) throws {
        stderrPath = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-check-\(UUID().uuidString.prefix(8)).stderr").path
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let stdin = Pipe()
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.script, Self.schema]
        var environment = ProcessInfo.processInfo.environment
        environment["WEBHOOK_CHECK_SECRET"] = secret
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
        try process.run()
        var buffer = Data()
        guard let first = Self.readLine(output, &buffer), first == "ready" else {
            process.waitUntilExit()
            let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: stderrPath)
            throw HarnessError("""
                the independent webhook checker (\(Self.python) \(Self.script)) did not start: \(stderr.suffix(1500)) \
                (it needs python3 and python3-jsonschema: scripts/install-deps.sh installs them)
                """)
        }
        let remaining = buffer
        Thread.detachNewThread { [self] in readLoop(buffer: remaining) }
    }

    /// Starts a checker on a thread of its own: starting Python and waiting for its "ready" blocks, and
    /// must not hold one of the few cooperative threads the other tests' tasks run on.
    public static func start(secret: String) async throws -> IndependentWebhookCheck {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try IndependentWebhookCheck(secret: secret) }) }
        }
    }

    /// Ends the checker on a thread of its own (waiting for the process blocks).
    public func stopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [self] in
                stop()
                continuation.resume()
            }
        }
    }

    /// Checks one request as it arrived: the raw `webhook-id`, `webhook-timestamp` and `webhook-signature`.
    public func check(id: String, timestamp: String, signature: String, body: [UInt8]) async -> Verdict {
        let request: [String: String] = ["id": id, "timestamp": timestamp, "signature": signature, "body": Data(body).base64EncodedString()]
        var line = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
        line.append(0x0A)
        return await withCheckedContinuation { continuation in
            let failure: String? = state.withLock { state in
                if let dead = state.dead { return dead }
                state.pending.append(continuation)
                do {
                    try input.write(contentsOf: line)
                    return nil
                } catch {
                    state.pending.removeLast()
                    return "cannot write to the checker: \(error)"
                }
            }
            if let failure { continuation.resume(returning: Verdict(signatureOK: false, schemaErrors: ["independent check unavailable: \(failure)"])) }
        }
    }

    /// Ends the checker (idempotent).
    public func stop() {
        try? input.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    private func readLoop(buffer: Data) {
        var buffer = buffer
        while let line = Self.readLine(output, &buffer) {
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            let verdict = Verdict(
                signatureOK: object?["signature_ok"] as? Bool ?? false,
                schemaErrors: object.map { $0["errors"] as? [String] ?? [] } ?? ["unreadable checker answer: \(line)"])
            let continuation = state.withLock { $0.pending.isEmpty ? nil : $0.pending.removeFirst() }
            continuation?.resume(returning: verdict)
        }
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        let waiting = state.withLock { state in
            state.dead = "the checker exited: \(stderr.suffix(1000))"
            defer { state.pending.removeAll() }
            return state.pending
        }
        for continuation in waiting {
            continuation.resume(returning: Verdict(signatureOK: false, schemaErrors: ["the independent checker exited: \(stderr.suffix(1000))"]))
        }
    }

    /// The next line from `handle` (blocking), nil at end of file.
    private static func readLine(_ handle: FileHandle, _ buffer: inout Data) -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer = Data(buffer[(newline + 1)...])
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
