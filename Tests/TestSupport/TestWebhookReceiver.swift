import DriftWebhooks
import Foundation
import Synchronization
import Testing
import WebhookReceiver

/// A real HTTP webhook receiver on loopback that records every delivery, checks its Standard Webhooks
/// signature, and answers with a status the test chooses (to simulate outages: error statuses, extra
/// headers such as `Retry-After` or `Location`, or not answering at all).
///
/// Every request it gets is also checked by an independent oracle (`IndependentWebhookCheck`: Python's
/// HMAC and python3-jsonschema against `deploy/webhook-payload.schema.json`). A signature only counts as
/// valid when both the project's `WebhookSigner` and that oracle accept it; every invalid signature or
/// body is listed in `problems` and recorded as a test issue by `shutdown()`.
public final class TestWebhookReceiver: Sendable {
    public struct Delivery: Sendable {
        public var id: String
        public var timestamp: Int64
        /// Both the project's signer and the independent check accept the signature.
        public var signatureValid: Bool
        /// The independent check (Python's hmac) alone accepts the signature.
        public var independentSignatureValid: Bool
        /// Why the body does not validate against deploy/webhook-payload.schema.json (empty: it does).
        public var schemaErrors: [String]
        public var body: [UInt8]
        public var eventID: String
        public var machineID: String
        public var previous: String
        public var state: String
    }

    /// A request that reached the handler, recorded once it is answered (whatever the answer).
    public struct Attempt: Sendable {
        public var webhookID: String
        public var body: [UInt8]
        /// Every request header (lowercased name, value), the signature included.
        public var headers: [(name: String, value: String)]
        /// The status answered.
        public var status: Int
        /// Unix ms when the request arrived.
        public var receivedAtMs: Int64
    }

    /// What the handler shares with the test.
    final class Shared: Sendable {
        let store = Mutex<[Delivery]>([])
        let attempts = Mutex<[Attempt]>([])
        let answer = Mutex(204)
        let answerHeaders = Mutex<[String: String]>([:])
        let hanging = Mutex(false)
        let closed = Mutex(false)
        /// Invalid signatures or bodies, and how many of them were already recorded as issues.
        let problems = Mutex<(all: [String], reported: Int)>(([], 0))
        /// Independent checks under way (they run after each answer).
        let checks = Mutex<[Task<Void, Never>]>([])
    }

    private let server: LoopbackWebhookServer
    private let shared: Shared
    private let checker: IndependentWebhookCheck

    public var port: Int { server.port }
    public var url: String { server.url }
    /// Verified deliveries that were answered with a 2xx.
    public var deliveries: [Delivery] { shared.store.withLock { $0 } }
    /// Every request answered so far, whatever the status.
    public var attempts: [Attempt] { shared.attempts.withLock { $0 } }
    public func respond(with status: Int) { shared.answer.withLock { $0 = status } }
    /// Answers `status` with these extra response headers (e.g. `Retry-After`, `Location`) from now on.
    public func respond(with status: Int, headers: [String: String]) {
        shared.answerHeaders.withLock { $0 = headers }
        shared.answer.withLock { $0 = status }
    }
    /// While true, requests are accepted and read but never answered (until this is reset or the receiver stops).
    public func hang(_ on: Bool) { shared.hanging.withLock { $0 = on } }
    /// Every request whose signature (by either check) or body (against the schema) was invalid.
    public var problems: [String] { shared.problems.withLock { $0.all } }

    private init(server: LoopbackWebhookServer, shared: Shared, checker: IndependentWebhookCheck) {
        self.server = server
        self.shared = shared
        self.checker = checker
    }

    /// Starts a receiver on `127.0.0.1:port` (0 picks a free port).
    public static func start(secret: String, port: Int = 0) async throws -> TestWebhookReceiver {
        let signer = try WebhookSigner(secret: secret)
        let checker = try await IndependentWebhookCheck.start(secret: secret)
        let shared = Shared()
        let server: LoopbackWebhookServer
        do {
            server = try await LoopbackWebhookServer.start(path: "/hook", port: port) { request in
                let id = request.webhookID
                let arrived = request.receivedAtUs / 1000
                let timestamp = request.webhookTimestamp
                let ours = signer.verify(id: id, timestamp: timestamp, body: request.body, header: request.webhookSignature)
                while shared.hanging.withLock({ $0 }) && !shared.closed.withLock({ $0 }) {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                let status = shared.answer.withLock { $0 }
                let extra = shared.answerHeaders.withLock { $0 }
                shared.attempts.withLock {
                    $0.append(Attempt(webhookID: id, body: request.body, headers: request.headers, status: status, receivedAtMs: arrived))
                }
                var stored: Int?
                if (200..<300).contains(status) {
                    let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
                    let data = object?["data"] as? [String: Any] ?? [:]
                    let delivery = Delivery(
                        id: id, timestamp: timestamp,
                        signatureValid: ours, independentSignatureValid: ours, schemaErrors: [],
                        body: request.body, eventID: data["event_id"] as? String ?? "", machineID: data["machine_id"] as? String ?? "",
                        previous: data["previous_state"] as? String ?? "", state: data["state"] as? String ?? "")
                    stored = shared.store.withLock { $0.append(delivery); return $0.count - 1 }
                }
                // The independent check runs after the answer, so its speed never turns into a timeout at the
                // sender; its verdict updates the delivery and every problem fails the test at `shutdown()`.
                let signature = request.webhookSignature, body = request.body, header = request.header("webhook-timestamp") ?? ""
                let check = Task {
                    let verdict = await checker.check(id: id, timestamp: header, signature: signature, body: body)
                    var problems: [String] = []
                    if !verdict.signatureOK || !ours {
                        problems.append("webhook-id \(id): invalid signature (WebhookSigner: \(ours ? "valid" : "invalid"), independent HMAC: \(verdict.signatureOK ? "valid" : "invalid"))")
                    }
                    if !verdict.schemaErrors.isEmpty {
                        problems.append("webhook-id \(id): body does not match deploy/webhook-payload.schema.json: \(verdict.schemaErrors.joined(separator: "; ")) — body: \(String(decoding: body.prefix(600), as: UTF8.self))")
                    }
                    if !problems.isEmpty { shared.problems.withLock { $0.all += problems } }
                    if let stored {
                        shared.store.withLock {
                            $0[stored].signatureValid = ours && verdict.signatureOK
                            $0[stored].independentSignatureValid = verdict.signatureOK
                            $0[stored].schemaErrors = verdict.schemaErrors
                        }
                    }
                }
                shared.checks.withLock { $0.append(check) }
                return .init(status: status, headers: extra)
            }
        } catch {
            checker.stop()
            throw error
        }
        return TestWebhookReceiver(server: server, shared: shared, checker: checker)
    }

    /// Waits until every independent check of the requests so far has its verdict.
    public func settled() async {
        for check in shared.checks.withLock({ $0 }) { await check.value }
    }

    /// Records a test issue for every invalid signature or body received since the last call.
    public func recordProblems(sourceLocation: SourceLocation = #_sourceLocation) {
        let new = shared.problems.withLock { problems -> [String] in
            defer { problems.reported = problems.all.count }
            return Array(problems.all.dropFirst(problems.reported))
        }
        for problem in new { Issue.record("webhook receiver: \(problem)", sourceLocation: sourceLocation) }
    }

    /// Stops the server and the independent checker, then records every invalid signature or body as an issue.
    public func shutdown(sourceLocation: SourceLocation = #_sourceLocation) async {
        shared.closed.withLock { $0 = true }
        await server.shutdown()
        await settled()
        await checker.stopped()
        recordProblems(sourceLocation: sourceLocation)
    }
}
