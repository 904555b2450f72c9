import AkuaAPI
import ArgumentParser
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `drift-bench http-floor`: what one create costs in CPU with the daemon's client (`AkuaClient` on
/// AsyncHTTPClient) against the same exchange on bare SwiftNIO (`NIOHTTP1` on one kept-alive connection,
/// the same headers and body, the response decoded by the same `ReportParser`). Both are driven at a low
/// rate by a Dispatch timer, one request at a time as the idle daemon makes them, and the process's CPU
/// per request is compared; then both at saturation. It answers how much of the daemon's CPU per check
/// the HTTP client is, and so what replacing AsyncHTTPClient could save, before anyone writes one.
struct HTTPFloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-floor", abstract: "CPU per create: AkuaClient (AsyncHTTPClient) against bare SwiftNIO, at a low rate and at saturation.")

    @Option var url: String
    @Option var token: String
    @Option var machines: Int
    @Option var prefix: String = "mch_sim_"
    @Option(help: "Creates per second of the low-rate phases (the idle 100k daemon makes about 28).")
    var rate: Double = 28
    @Option(help: "Seconds measured per phase (after a 1 s warm-up).")
    var seconds: Double = 20
    @Option var concurrency: Int = 32
    @Option var out: String?

    struct Phase: Codable {
        var client: String
        var mode: String
        var requests: Int
        var errors: Int
        var cpuSeconds: Double
        var microsecondsPerRequest: Double
        var requestsPerSecond: Double
    }

    func run() async throws {
        let nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let logger = Logger(label: "http-floor", factory: { _ in SwiftLogNoOpLogHandler() })
        let client = try AkuaClient(
            configuration: AkuaClientConfiguration(baseURL: url, token: token, timeout: .seconds(10), environment: [:]), logger: logger)
        let target = try FloorTarget(baseURL: url, token: token)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var phases: [Phase] = []
        let (prefix, machines) = (prefix, machines)
        let id: @Sendable (Int) -> String = { n in prefix + ClientProbeCommand.pad(1 + (n * 7919) % machines) }

        // Low rate: one request per timer tick, its answer handed to a serial queue (the engine's hop).
        let engine = DispatchQueue(label: "http-floor.engine")
        phases.append(await Self.lowRate(client: "AkuaClient", rate: rate, seconds: seconds, queue: engine) { n, done in
            _ = client.createDriftReport(machineID: id(n), idempotencyKey: "v1.f.\(nonce).a\(n)", trigger: "schedule") { result in
                engine.async { done((try? result.get()) != nil) }
            }
        })
        let connection = try await FloorConnection.open(target, group: group)
        phases.append(await Self.lowRate(client: "SwiftNIO", rate: rate, seconds: seconds, queue: engine) { n, done in
            connection.send(machineID: id(n), key: "v1.f.\(nonce).n\(n)") { ok in engine.async { done(ok) } }
        })
        connection.close()

        // Saturation: `concurrency` requests always in flight.
        let counted = ClientProbeCommand.Counter()
        let before = Self.cpuSeconds()
        let akuaRate = await ClientProbeCommand.drive(concurrency: concurrency, seconds: seconds) { worker, n in
            do {
                let _: CreatedDriftReport = try await client.createDriftReport(
                    machineID: id(n * 31 + worker), idempotencyKey: "v1.f.\(nonce).s\(worker).\(n)", trigger: "schedule")
            } catch {
                counted.value.add(1, ordering: .relaxed)
            }
        }
        phases.append(Self.saturation("AkuaClient", rate: akuaRate, cpu: Self.cpuSeconds() - before, seconds: seconds + 1, errors: counted.value.load(ordering: .relaxed)))
        await client.shutdown()
        phases.append(try await Self.nioSaturation(target, group: group, concurrency: concurrency, seconds: seconds, nonce: nonce, id: id))
        try await group.shutdownGracefully()

        for phase in phases {
            print("\(phase.client) \(phase.mode): \(phase.requests) requests (\(phase.errors) errors), \(fmt(phase.requestsPerSecond, 0))/s, CPU \(fmt(phase.cpuSeconds, 2)) s = \(fmt(phase.microsecondsPerRequest, 0)) µs per request")
        }
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(phases).write(to: URL(fileURLWithPath: out))
        }
    }

    /// Issues request `n` on each tick of a timer at `rate` per second; `done` runs on `queue` with success.
    static func lowRate(
        client: String, rate: Double, seconds: Double, queue: DispatchQueue,
        issue: @escaping @Sendable (Int, @escaping @Sendable (Bool) -> Void) -> Void
    ) async -> Phase {
        let tally = Mutex((issued: 0, ok: 0, errors: 0, measuring: false, cpuAtStart: 0.0))
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let period = DispatchTimeInterval.nanoseconds(Int(1e9 / max(rate, 0.1)))
        timer.schedule(deadline: .now() + period, repeating: period, leeway: .milliseconds(1))
        timer.setEventHandler {
            let n = tally.withLock { state -> Int in
                state.issued += 1
                return state.issued
            }
            issue(n) { ok in
                tally.withLock { state in
                    guard state.measuring else { return }
                    if ok { state.ok += 1 } else { state.errors += 1 }
                }
            }
        }
        timer.activate()
        try? await Task.sleep(for: .seconds(1))
        tally.withLock { $0.measuring = true; $0.cpuAtStart = cpuSeconds() }
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        let (ok, errors, cpu) = tally.withLock { state in
            state.measuring = false
            return (state.ok, state.errors, cpuSeconds() - state.cpuAtStart)
        }
        timer.cancel()
        try? await Task.sleep(for: .milliseconds(200))
        return Phase(
            client: client, mode: "at \(fmt(rate, 0))/s", requests: ok, errors: errors, cpuSeconds: cpu,
            microsecondsPerRequest: ok > 0 ? cpu * 1e6 / Double(ok) : 0, requestsPerSecond: Double(ok) / seconds)
    }

    static func saturation(_ client: String, rate: Double, cpu: Double, seconds: Double, errors: Int) -> Phase {
        // `drive` counts `seconds` after its 1 s warm-up; the CPU covers both, so the requests are scaled to it.
        let requests = Int(rate * seconds)
        return Phase(
            client: client, mode: "saturated", requests: requests, errors: errors, cpuSeconds: cpu,
            microsecondsPerRequest: requests > 0 ? cpu * 1e6 / Double(requests) : 0, requestsPerSecond: rate)
    }

    /// `concurrency` kept-alive connections, each sending its next request as the previous answer ends.
    static func nioSaturation(
        _ target: FloorTarget, group: MultiThreadedEventLoopGroup, concurrency: Int, seconds: Double, nonce: String,
        id: @escaping @Sendable (Int) -> String
    ) async throws -> Phase {
        var connections: [FloorConnection] = []
        for _ in 0..<concurrency { connections.append(try await FloorConnection.open(target, group: group)) }
        let tally = Mutex((ok: 0, errors: 0, measuring: false, running: true))
        for (worker, connection) in connections.enumerated() {
            @Sendable func next(_ n: Int) {
                guard tally.withLock({ $0.running }) else { return }
                connection.send(machineID: id(n * 31 + worker), key: "v1.f.\(nonce).t\(worker).\(n)") { ok in
                    tally.withLock { state in
                        guard state.measuring else { return }
                        if ok { state.ok += 1 } else { state.errors += 1 }
                    }
                    next(n + 1)
                }
            }
            connection.channel.eventLoop.execute { next(0) }
        }
        let start = cpuSeconds()
        try? await Task.sleep(for: .seconds(1))
        tally.withLock { $0.measuring = true }
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        let (ok, errors) = tally.withLock { state in
            state.measuring = false
            state.running = false
            return (state.ok, state.errors)
        }
        let cpu = cpuSeconds() - start
        for connection in connections { connection.close() }
        return saturation("SwiftNIO", rate: Double(ok) / seconds, cpu: cpu, seconds: seconds + 1, errors: errors)
    }

    /// This process's user and system CPU seconds so far (every thread: timer, event loops, pool).
    static func cpuSeconds() -> Double {
        ProcStats.cpuSeconds(pid: getpid()) ?? 0
    }
}

/// Host, port, path prefix and headers of the create request, from the API's base URL.
struct FloorTarget: Sendable {
    var host: String
    var port: Int
    var pathPrefix: String
    var token: String

    init(baseURL: String, token: String) throws {
        guard let components = URLComponents(string: baseURL), components.scheme == "http", let host = components.host else {
            throw BenchError("http-floor needs a plain http:// base URL, not \(baseURL)")
        }
        self.host = host
        port = components.port ?? 80
        pathPrefix = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        self.token = token
    }
}

/// One kept-alive HTTP/1.1 connection on bare SwiftNIO: one request at a time, its answer decoded with
/// the daemon's `ReportParser` (the work AkuaClient does besides the HTTP exchange).
final class FloorConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let target: FloorTarget
    let channel: any Channel
    // Event loop only.
    private var status = 0
    private var body = ByteBuffer()
    private var pending: (@Sendable (Bool) -> Void)?
    private static let requestBody = ByteBuffer(string: "{\"trigger\":\"schedule\"}")

    private init(target: FloorTarget, channel: any Channel) {
        self.target = target
        self.channel = channel
    }

    static func open(_ target: FloorTarget, group: MultiThreadedEventLoopGroup) async throws -> FloorConnection {
        let box = Mutex<FloorConnection?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                let connection = FloorConnection(target: target, channel: channel)
                box.withLock { $0 = connection }
                return channel.pipeline.addHTTPClientHandlers().flatMap { channel.pipeline.addHandler(connection) }
            }
            .connect(host: target.host, port: target.port).get()
        // The initializer made the handler for this channel; it was set before `connect` completed.
        guard let connection = box.withLock({ $0 }), connection.channel === channel else { throw BenchError("no connection handler") }
        return connection
    }

    /// Sends one create; `done` runs on the event loop with whether a report came back.
    func send(machineID: String, key: String, done: @escaping @Sendable (Bool) -> Void) {
        channel.eventLoop.execute { [self] in
            pending = done
            var headers = HTTPHeaders()
            headers.reserveCapacity(7)
            headers.add(name: "Host", value: "\(target.host):\(target.port)")
            headers.add(name: "Authorization", value: "Bearer \(target.token)")
            headers.add(name: "Accept", value: "application/json")
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "User-Agent", value: "akua-driftd/bench")
            headers.add(name: "Idempotency-Key", value: key)
            headers.add(name: "Content-Length", value: String(Self.requestBody.readableBytes))
            let head = HTTPRequestHead(
                version: .http1_1, method: .POST, uri: target.pathPrefix + "/machines/" + machineID + "/drift_reports", headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(Self.requestBody)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body.clear()
        case .body(var buffer):
            body.writeBuffer(&buffer)
        case .end:
            let report = body.withUnsafeReadableBytes { ReportParser.report(Data($0)) }
            let done = pending
            pending = nil
            done?(status == 201 && report != nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let done = pending
        pending = nil
        done?(false)
        context.close(promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }
}
