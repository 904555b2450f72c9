import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A small HTTP server on loopback that hands every POST on one path to a handler. The demo's webhook
/// receiver, the benchmark's and the tests' are each this server plus what they do with a delivery.
public final class LoopbackWebhookServer: Sendable {
    /// One POST as it arrived.
    public struct Request: Sendable {
        /// Every request header as (lowercased name, value).
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// Unix microseconds when the body had been read.
        public var receivedAtUs: Int64

        /// The first value of header `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            let wanted = name.lowercased()
            return headers.first { $0.name == wanted }?.value
        }

        /// The Standard Webhooks headers.
        public var webhookID: String { header("webhook-id") ?? "" }
        public var webhookTimestamp: Int64 { Int64(header("webhook-timestamp") ?? "") ?? 0 }
        public var webhookSignature: String { header("webhook-signature") ?? "" }
    }

    /// The status and extra headers to answer with.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public init(status: Int, headers: [String: String] = [:]) {
            self.status = status
            self.headers = headers
        }
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: Int
    public let path: String
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    /// `http://127.0.0.1:PORT/PATH`.
    public var url: String { "http://127.0.0.1:\(port)\(path)" }

    private init(port: Int, path: String, group: ServiceGroup, task: Task<Void, Never>) {
        self.port = port
        self.path = path
        self.group = group
        self.task = task
    }

    /// Starts listening on `127.0.0.1:port` (0 picks a free port) and returns once it accepts connections.
    public static func start(
        path: String = "/hook", port: Int = 0, backlog: Int = 256,
        handler: @escaping @Sendable (Request) async -> Answer
    ) async throws -> LoopbackWebhookServer {
        let router = Router()
        router.post(RouterPath(path)) { request, _ -> Response in
            let body = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let arrived = Request(
                headers: request.headers.map { (name: $0.name.canonicalName, value: $0.value) }, body: body,
                receivedAtUs: Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)
            let answer = await handler(arrived)
            var fields = HTTPFields()
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return Response(status: .init(code: answer.status), headers: fields)
        }
        var logger = Logger(label: "akua-driftd.webhook-receiver")
        logger.logLevel = .error
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), backlog: backlog, reuseAddress: true),
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
        guard let bound = await iterator.next(), bound > 0 else {
            throw StartError(description: "webhook receiver could not listen on 127.0.0.1:\(port)")
        }
        return LoopbackWebhookServer(port: bound, path: path, group: group, task: task)
    }

    /// Stops listening and waits until the server is down.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        await task.value
    }
}

#if canImport(Glibc)
import Glibc
#endif
