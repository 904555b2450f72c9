import DriftConfig
import DriftCore
import DriftDaemon
import DriftProxy
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import Testing

@testable import DriftWebhooks

/// Issue 10 §6: webhook deliveries honour HTTP(S)_PROXY and NO_PROXY like the Akua API client, checked
/// with a real CONNECT proxy (Tests/Support/connect-proxy.py) that records what reaches it. The webhook
/// host is `receiver.invalid`, which never resolves: only the proxy can reach the loopback receiver.
@Suite("Webhook deliveries through a proxy")
struct ProxyDeliveryTests {
    static let secretKey = Array(repeating: UInt8(7), count: 32)

    @Test("HTTP_PROXY carries deliveries (CONNECT, with credentials) and no secret is logged",
          .enabled(if: TestPreconditions.tool("python3") != nil, "needs python3 for the recording proxy"))
    func throughProxy() async throws {
        let directory = try TemporaryDirectory("akua-webhooks-proxy")
        let proxy = try await RecordingProxy.start(directory)
        let receiver = try await CountingReceiver.start(status: 204)
        let url = "http://receiver.invalid:\(receiver.server.port)/hook"
        let setting = try #require(try WebhookEndpoint.proxy(
            forURL: url, environment: ["HTTP_PROXY": "http://ops:pr0xy-s3cret@127.0.0.1:\(proxy.port)"]))
        let logs = LogCapture()
        let database = try AppDatabase.open(path: directory.file("state.sqlite"))
        let (dispatcher, clock) = Self.dispatcher(url: url, proxy: setting, database: database, logs: logs)
        let task = Task { await dispatcher.run() }

        try await eventually(timeout: .seconds(20), "the delivery arrives through the proxy") { receiver.count == 1 }
        try await eventually(timeout: .seconds(20), "the dispatcher goes idle") { clock.waits.count >= 1 }
        task.cancel()
        await task.value
        #expect(try database.deliveryCounts() == ["delivered": 1])
        let requests = proxy.requests
        #expect(requests.count == 1)
        #expect(requests.first?.method == "CONNECT")
        #expect(requests.first?.target == "receiver.invalid:\(receiver.server.port)")
        #expect(requests.first?.auth == "ops:pr0xy-s3cret")
        #expect(receiver.all.first?.headers.contains { $0.name.lowercased() == "proxy-authorization" } == false,
                "proxy credentials must not reach the receiver")
        let logged = logs.lines.joined(separator: "\n")
        #expect(logged.contains("127.0.0.1:\(proxy.port)"), "the proxy in use is logged (debug)")
        #expect(!logged.contains("pr0xy-s3cret") && !logged.contains("ops:"))
        await receiver.shutdown()
    }

    @Test("HTTPS_PROXY is used for https webhooks (the CONNECT reaches the proxy)",
          .enabled(if: TestPreconditions.tool("python3") != nil, "needs python3 for the recording proxy"))
    func httpsThroughProxy() async throws {
        let directory = try TemporaryDirectory("akua-webhooks-proxy-tls")
        let proxy = try await RecordingProxy.start(directory)
        let url = "https://hooks.receiver.invalid:8443/hook"
        let environment = ["HTTPS_PROXY": "http://127.0.0.1:\(proxy.port)", "HTTP_PROXY": "http://127.0.0.1:9"]
        let setting = try #require(try WebhookEndpoint.proxy(forURL: url, environment: environment))
        #expect(setting.port == proxy.port)
        let logs = LogCapture()
        let database = try AppDatabase.open(path: directory.file("state.sqlite"))
        let (dispatcher, clock) = Self.dispatcher(url: url, proxy: setting, database: database, logs: logs)
        let task = Task { await dispatcher.run() }
        // Nothing listens on 8443: the proxy answers 502 and the attempt is scheduled for a retry.
        try await eventually(timeout: .seconds(20), "the attempt is over") { clock.waits.count >= 1 }
        task.cancel()
        await task.value
        // AsyncHTTPClient may retry the tunnel within the attempt's timeout; every try goes to the proxy.
        let targets = proxy.requests.map(\.target)
        #expect(!targets.isEmpty && Set(targets) == ["hooks.receiver.invalid:8443"], "\(targets)")
        #expect(try database.deliveryCounts() == ["pending": 1])
    }

    @Test("NO_PROXY (and no_proxy) bypass the proxy for matching webhook hosts",
          .enabled(if: TestPreconditions.tool("python3") != nil, "needs python3 for the recording proxy"))
    func noProxyBypasses() async throws {
        let directory = try TemporaryDirectory("akua-webhooks-noproxy")
        let proxy = try await RecordingProxy.start(directory)
        let url = "http://receiver.invalid:9/hook"
        for variable in ["NO_PROXY", "no_proxy"] {
            let environment = ["HTTP_PROXY": "http://127.0.0.1:\(proxy.port)", variable: "example.org, .invalid"]
            #expect(try WebhookEndpoint.proxy(forURL: url, environment: environment) == nil)
        }
        // A direct attempt (which fails: the host does not resolve) and nothing at the proxy.
        let logs = LogCapture()
        let database = try AppDatabase.open(path: directory.file("state.sqlite"))
        let (dispatcher, clock) = Self.dispatcher(url: url, proxy: nil, database: database, logs: logs)
        let task = Task { await dispatcher.run() }
        try await eventually(timeout: .seconds(20), "the direct attempt is over") { clock.waits.count >= 1 }
        task.cancel()
        await task.value
        #expect(try database.deliveryCounts() == ["pending": 1])
        #expect(logs.records.contains { $0.message.contains("failed (connection failed") })
        #expect(proxy.requests.isEmpty)
    }

    @Test("a bad proxy setting is an error that names no credentials")
    func badProxy() {
        #expect(throws: ProxySettingError.self) {
            try WebhookEndpoint.proxy(forURL: "https://h.example/x", environment: ["HTTPS_PROXY": "ftp://u:hunter2@p:21"])
        }
        do {
            _ = try WebhookEndpoint.proxy(forURL: "https://h.example/x", environment: ["HTTPS_PROXY": "socks5://u:hunter2@p"])
            Issue.record("SOCKS with credentials must be refused")
        } catch {
            #expect(!error.message.contains("hunter2"))
        }
    }

    @Test("the daemon gives each configured webhook the proxy of the service's environment")
    func daemonWiring() throws {
        let directory = try TemporaryDirectory("akua-webhooks-proxy-config")
        let secret = try directory.write("webhook.secret", "whsec_" + Data(Self.secretKey).base64EncodedString() + "\n")
        let path = try directory.write("config.toml", """
            [[machine]]
            id = "mch_a"
            [[webhook]]
            url = "https://hooks.example.com/a"
            secret_file = "\(secret)"
            [[webhook]]
            name = "inside"
            url = "https://alerts.internal.example/b"
            secret_file = "\(secret)"
            """)
        let loaded = try ConfigLoader.load(path: path, environment: ["AKUA_API_TOKEN": "t"]).get()
        let endpoints = try DaemonAssembly.endpoints(
            loaded, environment: ["HTTPS_PROXY": "http://ops:pr0xy-s3cret@proxy.example:3128", "NO_PROXY": "internal.example"])
        #expect(endpoints.map { $0.proxy?.description } == ["http://proxy.example:3128", nil])
        #expect(endpoints.first?.proxy?.password == "pr0xy-s3cret")
        do {
            _ = try DaemonAssembly.endpoints(loaded, environment: ["HTTPS_PROXY": "socks5://ops:pr0xy-s3cret@proxy.example"])
            Issue.record("an unusable proxy setting must stop the start or reload")
        } catch {
            #expect("\(error)".contains("webhook hooks.example.com: "))
            #expect(!"\(error)".contains("pr0xy-s3cret"))
        }
    }

    static func dispatcher(url: String, proxy: ProxySetting?, database: AppDatabase, logs: LogCapture) -> (WebhookDispatcher, ManualDispatcherClock) {
        let endpoint = WebhookEndpoint(
            url: url, name: nil, signer: WebhookSigner(key: secretKey), events: Set(DriftState.allCases),
            timeoutMs: 5_000, proxy: proxy)
        let start = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try? recordTransition(in: database, webhook: endpoint.id, atMs: start)
        let clock = ManualDispatcherClock(startMs: start)
        let dispatcher = WebhookDispatcher(
            endpoints: [endpoint], outbox: database, userAgent: "test", logger: logs.logger(), clock: clock)
        return (dispatcher, clock)
    }
}

/// Tests/Support/connect-proxy.py as a child process, and what it recorded.
final class RecordingProxy: Sendable {
    struct Request: Decodable, Sendable {
        var method: String
        var target: String
        var auth: String?
    }

    let process: ChildProcess
    let port: Int

    private init(process: ChildProcess, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(_ directory: TemporaryDirectory) async throws -> RecordingProxy {
        let process = try ChildProcess(
            "/usr/bin/env", ["python3", PackagePaths.root + "/Tests/Support/connect-proxy.py"],
            logDirectory: directory.path, name: "connect-proxy")
        try await eventually(timeout: .seconds(20), "the proxy prints its port") { process.stdout.contains("\n") || !process.isRunning }
        guard let port = process.stdout.split(separator: "\n").first.flatMap({ Int($0) }) else {
            throw HarnessError("connect-proxy.py did not start: \(process.stderr.suffix(1000))")
        }
        return RecordingProxy(process: process, port: port)
    }

    var requests: [Request] {
        process.stdout.split(separator: "\n").dropFirst().compactMap {
            try? JSONDecoder().decode(Request.self, from: Data($0.utf8))
        }
    }

    deinit { process.signal(SIGTERM) }
}
