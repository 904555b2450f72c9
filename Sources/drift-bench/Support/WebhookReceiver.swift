import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A loopback webhook receiver that records, for every delivery, the time from the transition (the
/// payload's `timestamp`, when the daemon recorded it) to its arrival here.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var eventID: String
        var latencyMs: Double
    }

    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>
    private let deliveries: Recorder

    private init(port: Int, group: ServiceGroup, task: Task<Void, Never>, deliveries: Recorder) {
        self.port = port
        self.group = group
        self.task = task
        self.deliveries = deliveries
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    static func start() async throws -> WebhookReceiver {
        let deliveries = Recorder()
        let router = Router()
        let log = deliveries
        router.post("/hook") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            let arrived = Clocks.wallUs()
            let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
            log.record(id: id, body: Array(body.readableBytesView), arrivedUs: arrived)
            return .noContent
        }
        var quiet = Logger(label: "drift-bench.receiver")
        quiet.logLevel = .error
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), backlog: 256),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        let task = Task {
            try? await group.run()
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw BenchError("webhook receiver did not start") }
        return WebhookReceiver(port: port, group: group, task: task, deliveries: deliveries)
    }

    /// Forgets everything received so far.
    func reset() { deliveries.list.withLock { $0.removeAll() } }

    func received() -> [Delivery] { deliveries.list.withLock { $0 } }

    func shutdown() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    private final class Recorder: Sendable {
        let list = Mutex<[Delivery]>([])
        func record(id: String, body: [UInt8], arrivedUs: Int64) {
            guard let sent = Self.timestampMs(body) else { return }
            let latency = Double(arrivedUs) / 1000 - Double(sent)
            list.withLock { $0.append(Delivery(eventID: id, latencyMs: latency)) }
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
