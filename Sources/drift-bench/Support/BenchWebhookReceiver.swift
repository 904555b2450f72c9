import Foundation
import Synchronization
import WebhookReceiver

/// A loopback webhook receiver that records every delivery's event id (`webhook-id`) and arrival time
/// (unix µs). The harness matches them with the transition log of the state file, because the payload's
/// `timestamp` is when the change happened by the API's data (a report's `created_at`, whole seconds),
/// not when the daemon recorded it.
final class BenchWebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var eventID: String
        var arrivedUs: Int64
    }

    private let server: LoopbackWebhookServer
    private let list: Recorder

    private init(server: LoopbackWebhookServer, list: Recorder) {
        self.server = server
        self.list = list
    }

    var port: Int { server.port }
    var url: String { server.url }

    static func start() async throws -> BenchWebhookReceiver {
        let list = Recorder()
        let server = try await LoopbackWebhookServer.start(path: "/hook") { request in
            list.record(id: request.webhookID, body: request.body, arrivedUs: request.receivedAtUs)
            return .init(status: 204)
        }
        return BenchWebhookReceiver(server: server, list: list)
    }

    /// Forgets everything received so far.
    func reset() { list.deliveries.withLock { $0.removeAll() } }

    func received() -> [Delivery] { list.deliveries.withLock { $0 } }

    func shutdown() async { await server.shutdown() }

    private final class Recorder: Sendable {
        let deliveries = Mutex<[Delivery]>([])
        func record(id: String, body: [UInt8], arrivedUs: Int64) {
            deliveries.withLock { $0.append(Delivery(eventID: id, arrivedUs: arrivedUs)) }
        }
    }
}
