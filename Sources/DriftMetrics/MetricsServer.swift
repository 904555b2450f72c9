import DriftCore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The optional HTTP listener of `[metrics] listen`: `GET /metrics` (Prometheus text format 0.0.4),
/// `GET /-/healthy` (200 while the process serves) and `GET /-/ready` (200 once the first round of
/// checks was scheduled and while the scheduler keeps up, else 503). Runs on its own service group, so
/// starting and stopping it never touches the daemon's.
public final class MetricsServer: Sendable {
    /// What the endpoints read, fixed at start (the daemon routes them to whatever is current).
    public struct Handlers: Sendable {
        public var scrape: @Sendable () async -> [UInt8]
        public var ready: @Sendable () async -> (ready: Bool, reason: String)
        public init(scrape: @escaping @Sendable () async -> [UInt8], ready: @escaping @Sendable () async -> (ready: Bool, reason: String)) {
            self.scrape = scrape
            self.ready = ready
        }
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The content type of the text exposition format that swift-prometheus writes.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public let address: MetricsListenAddress
    /// The TCP port bound (useful with port 0 in tests); nil for a unix socket.
    public let port: Int?
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    private init(address: MetricsListenAddress, port: Int?, group: ServiceGroup, task: Task<Void, Never>) {
        self.address = address
        self.port = port
        self.group = group
        self.task = task
    }

    /// Binds `address` and returns once it accepts connections; throws with the reason when it cannot.
    /// A leftover unix socket file at the path (from an earlier run) is replaced.
    public static func start(address: MetricsListenAddress, handlers: Handlers, logger: Logger) async throws -> MetricsServer {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let body = await handlers.scrape()
            return Response(
                status: .ok, headers: [.contentType: contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/-/healthy") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: "akua-driftd is healthy.\n")))
        }
        router.get("/-/ready") { _, _ -> Response in
            let (ready, reason) = await handlers.ready()
            return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: reason + "\n")))
        }
        let bind: BindAddress
        switch address {
        case .tcp(let host, let port): bind = .hostname(host, port: port)
        case .unix(let path):
            var info = stat()
            if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
            bind = .unixDomainSocket(path: path)
        }
        var quiet = logger
        quiet.logLevel = .error
        let (bound, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: bind, serverName: nil, backlog: 64, reuseAddress: true),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: quiet)
        var configuration = ServiceGroupConfiguration(services: [app], logger: quiet)
        configuration.maximumGracefulShutdownDuration = .seconds(3)
        let group = ServiceGroup(configuration: configuration)
        let failure = FailureBox()
        let task = Task {
            do { try await group.run() } catch { failure.set("\(error)") }
            continuation.finish()
        }
        var iterator = bound.makeAsyncIterator()
        guard let port = await iterator.next() else {
            await task.value
            throw StartError(description: "[metrics] listen = \"\(address)\": cannot listen: \(failure.get() ?? "the server stopped")")
        }
        if case .unix = address { return MetricsServer(address: address, port: nil, group: group, task: task) }
        return MetricsServer(address: address, port: port, group: group, task: task)
    }

    /// Stops listening and waits until the server is down.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        await task.value
        if case .unix(let path) = address { unlink(path) }
    }
}

/// The bind error, handed from the server task to `start`.
private final class FailureBox: Sendable {
    private let value = Synchronization.Mutex<String?>(nil)
    func set(_ text: String) { value.withLock { $0 = text } }
    func get() -> String? { value.withLock { $0 } }
}


