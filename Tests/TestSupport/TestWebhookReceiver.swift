import DriftWebhooks
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP webhook receiver on loopback that records every delivery, checks its Standard Webhooks
/// signature, and answers with a status the test chooses (to simulate outages: error statuses, extra
/// headers such as `Retry-After` or `Location`, or not answering at all).
public final class TestWebhookReceiver: Sendable {
    public struct Delivery: Sendable {
        public var id: String
        public var timestamp: Int64
        public var signatureValid: Bool
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
    }

    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>
    private let shared: Shared

    public var url: String { "http://127.0.0.1:\(port)/hook" }
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

    private init(port: Int, group: ServiceGroup, task: Task<Void, Never>, shared: Shared) {
        self.port = port
        self.group = group
        self.task = task
        self.shared = shared
    }

    /// Starts a receiver on `127.0.0.1:port` (0 picks a free port).
    public static func start(secret: String, port: Int = 0) async throws -> TestWebhookReceiver {
        let signer = try WebhookSigner(secret: secret)
        let shared = Shared()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
            let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
            let arrived = Int64(Date().timeIntervalSince1970 * 1000)
            while shared.hanging.withLock({ $0 }) && !shared.closed.withLock({ $0 }) {
                try? await Task.sleep(for: .milliseconds(20))
            }
            let status = shared.answer.withLock { $0 }
            let extra = shared.answerHeaders.withLock { $0 }
            shared.attempts.withLock {
                $0.append(Attempt(webhookID: id, body: body, headers: headers, status: status, receivedAtMs: arrived))
            }
            if (200..<300).contains(status) {
                let timestamp = Int64(request.headers[HTTPField.Name("webhook-timestamp")!] ?? "") ?? 0
                let signature = request.headers[HTTPField.Name("webhook-signature")!] ?? ""
                let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
                let data = object?["data"] as? [String: Any] ?? [:]
                let delivery = Delivery(
                    id: id, timestamp: timestamp, signatureValid: signer.verify(id: id, timestamp: timestamp, body: body, header: signature),
                    body: body, eventID: data["event_id"] as? String ?? "", machineID: data["machine_id"] as? String ?? "",
                    previous: data["previous_state"] as? String ?? "", state: data["state"] as? String ?? "")
                shared.store.withLock { $0.append(delivery) }
            }
            var fields = HTTPFields()
            for (name, value) in extra {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return Response(status: .init(code: status), headers: fields)
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test-receiver")
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), reuseAddress: true),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(3)
        let group = ServiceGroup(configuration: configuration)
        let task = Task {
            try? await group.run()
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw HarnessError("webhook receiver did not start") }
        return TestWebhookReceiver(port: port, group: group, task: task, shared: shared)
    }

    public func shutdown() async {
        shared.closed.withLock { $0 = true }
        await group.triggerGracefulShutdown()
        await task.value
    }
}
