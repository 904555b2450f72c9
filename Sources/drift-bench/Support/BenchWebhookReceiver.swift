import Foundation
import Synchronization
import WebhookReceiver

/// A loopback webhook receiver that records, for every delivery, the time from the transition (the
/// payload's `timestamp`, when the daemon recorded it) to its arrival here.
final class BenchWebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var eventID: String
        var latencyMs: Double
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
            guard let sent = Self.timestampMs(body) else { return }
            let latency = Double(arrivedUs) / 1000 - Double(sent)
            deliveries.withLock { $0.append(Delivery(eventID: id, latencyMs: latency)) }
        }

        /// The payload's `"timestamp": "2026-11-29T11:30:00.250Z"` in unix ms.
        static func timestampMs(_ body: [UInt8]) -> Int64? {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                  let text = object["timestamp"] as? String else { return nil }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = formatter.date(from: text) else { return nil }
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
    }
}
