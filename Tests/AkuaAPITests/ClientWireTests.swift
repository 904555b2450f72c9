import DriftCore
import DriftTestSupport
import Foundation
import Testing

@testable import AkuaAPI

/// Wire-level behaviour checked against a scripted loopback server: exact request bytes, and
/// responses the simulator never produces (405/501, HTML, redirects, endless or dripping bodies).
@Suite("AkuaClient on the wire")
struct ClientWireTests {
    static let reportJSON = """
        {"id":"dr_1","machine_id":"mch_a","state":"in_sync","etag":"e","created_at":10,"started_at":9,"expires_at":910}
        """

    @Test("create sends exactly the contract's method, path, headers and body")
    func createRequest() async throws {
        let server = try ScriptedHTTPServer { _ in
            ScriptedHTTPServer.response(
                201, headers: [("Content-Type", "application/json; charset=utf-8"), ("Location", "/v1/x")],
                body: Self.reportJSON)
        }
        defer { server.stop() }
        let created = try await SimulatorHarness.withClient(baseURL: server.baseURL + "/", context: "ws_j572abc") { client in
            try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "v1.s.1.abc", trigger: "scheduled \"slot\"")
        }
        #expect(created.location == "/v1/x")
        #expect(created.report.state == .inSync)
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.target == "/v1/machines/mch_a/drift_reports")
        #expect(request.values("authorization") == ["Bearer \(SimulatorHarness.token)"])
        #expect(request.values("accept") == ["application/json"])
        #expect(request.values("content-type") == ["application/json"])
        #expect(request.values("user-agent") == ["akua-driftd/\(akuaDriftdVersion)"])
        #expect(request.values("akua-context") == ["ws_j572abc"])
        #expect(request.values("idempotency-key") == ["v1.s.1.abc"])
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"trigger":"scheduled \"slot\""}"#)
        let object = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
        #expect(object?.keys.sorted() == ["trigger"])
    }

    @Test("GETs carry no body, no idempotency key, and an encoded query")
    func getRequests() async throws {
        let server = try ScriptedHTTPServer { request in
            if request.target.hasPrefix("/v1/machines?") {
                return ScriptedHTTPServer.response(200, body: #"{"data":[],"has_more":false,"next_cursor":null}"#)
            }
            return ScriptedHTTPServer.response(200, body: #"{"data":[],"has_more":false}"#)
        }
        defer { server.stop() }
        try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            _ = try await client.listMachines(cursor: "c&d=e f", limit: 5, clusterID: "cls/1", state: .active)
            _ = try await client.listDriftReports(machineID: "a/b", cursor: "x+y", limit: 100, state: .drifted)
        }
        let requests = server.requests
        #expect(requests.map(\.target) == [
            "/v1/machines?cursor=c%26d%3De%20f&limit=5&cluster_id=cls%2F1&state=ACTIVE",
            "/v1/machines/a%2Fb/drift_reports?cursor=x%2By&limit=100&state=drifted",
        ])
        for request in requests {
            #expect(request.method == "GET")
            #expect(request.body.isEmpty)
            #expect(request.values("idempotency-key").isEmpty)
            #expect(request.values("content-type").isEmpty)
            #expect(request.values("akua-context").isEmpty)
        }
    }

    @Test("405, 501 and a non-API 404 mean drift reports are unsupported", arguments: [
        (405, "{}"), (501, ""), (404, "<html><body>Not Found</body></html>"),
    ])
    func unsupported(status: Int, body: String) async throws {
        let server = try ScriptedHTTPServer { _ in
            ScriptedHTTPServer.response(status, headers: [("Content-Type", "text/html")], body: body)
        }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
        }
        #expect(error == .unsupported(status: status))
        #expect("\(error!)" == "drift reports not supported by this API (HTTP \(status))")
    }

    @Test("a 200 that is not JSON is a bad response")
    func wrongContentType() async throws {
        let server = try ScriptedHTTPServer { _ in
            ScriptedHTTPServer.response(200, headers: [("Content-Type", "text/html")], body: "<html>login</html>")
        }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.getDriftReport(machineID: "mch_a", reportID: "dr_1") }
        }
        #expect(error == .badResponse(#"expected application/json, got "text/html""#))
    }

    @Test("a report for another machine is an invalid report (a replay would say the same)")
    func otherMachine() async throws {
        let server = try ScriptedHTTPServer { _ in ScriptedHTTPServer.response(201, body: Self.reportJSON) }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.createDriftReport(machineID: "mch_b", idempotencyKey: "k", trigger: "t") }
        }
        guard case .invalidReport(let message)? = error else {
            Issue.record("expected invalidReport, got \(String(describing: error))")
            return
        }
        #expect(message.contains("mch_a"))
    }

    @Test("redirects are not followed (the token must not travel elsewhere)")
    func redirect() async throws {
        let server = try ScriptedHTTPServer { _ in
            ScriptedHTTPServer.response(302, headers: [("Location", "http://127.0.0.1:1/steal")], body: "")
        }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.listMachines() }
        }
        #expect(error == .unexpectedStatus(302))
        #expect(server.requests.count == 1)
    }

    @Test("a declared 100 MB body fails at once without being read")
    func declaredHugeBody() async throws {
        let server = try ScriptedHTTPServer { _ in
            .raw(Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{".utf8))
        }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.listMachines() }
        }
        #expect(error == .oversized(limit: 1 << 20))
    }

    @Test("an endless chunked body stops at the limit instead of being buffered")
    func endlessBody() async throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        // Up to 100 MiB offered in 64 KiB chunks.
        let server = try ScriptedHTTPServer { _ in .chunked(head: head, chunkSize: 64 * 1024, chunks: 1_600, pause: .zero) }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.listMachines() }
        }
        #expect(error == .oversized(limit: 1 << 20))
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.written < 40 << 20, "server wrote \(server.written) bytes")
    }

    @Test("a body that drips slower than the timeout times out")
    func drippingBody() async throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        let server = try ScriptedHTTPServer { _ in .chunked(head: head, chunkSize: 1, chunks: 100, pause: .milliseconds(100)) }
        defer { server.stop() }
        let clock = ContinuousClock()
        let started = clock.now
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL, timeout: .milliseconds(500)) { client in
            await apiError { try await client.listMachines() }
        }
        #expect(error == .timeout)
        #expect(clock.now - started < .seconds(15), "a dripping body must hit the timeout, not run for 10 s")
    }

    @Test("a huge error body is dropped but the status still classifies")
    func hugeErrorBody() async throws {
        let head = "HTTP/1.1 503 Busy\r\nRetry-After: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        let server = try ScriptedHTTPServer { _ in .chunked(head: head, chunkSize: 64 * 1024, chunks: 100, pause: .zero) }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.listMachines() }
        }
        #expect(error == .retryable(status: 503, retryAfter: .seconds(5), detail: nil))
    }

    @Test("a connection closed before any answer is a transport error")
    func closedWithoutAnswer() async throws {
        let server = try ScriptedHTTPServer { _ in .close }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.listMachines() }
        }
        guard case .transport? = error else {
            Issue.record("expected transport, got \(String(describing: error))")
            return
        }
    }

    @Test("a body cut short of its Content-Length is transport damage, retryable with the same key")
    func truncatedBody() async throws {
        let full = Array(Self.reportJSON.utf8)
        let server = try ScriptedHTTPServer { _ in
            .raw(Array("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: \(full.count)\r\n\r\n".utf8)
                + full.prefix(full.count / 2))
        }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
        }
        guard case .transport? = error else {
            Issue.record("expected transport, got \(String(describing: error))")
            return
        }
        #expect(error?.isRetryable == true)
        #expect(error?.isSchemaViolation == false)
    }

    @Test("no Date header: serverDateMs is nil; a Date header is read")
    func dateHeader() async throws {
        let server = try ScriptedHTTPServer { request in
            let headers: [(String, String)] = request.values("idempotency-key") == ["dated"]
                ? [("Content-Type", "application/json"), ("Date", "Sun, 06 Nov 1994 08:49:37 GMT")]
                : [("Content-Type", "application/json")]
            return ScriptedHTTPServer.response(201, headers: headers, body: Self.reportJSON)
        }
        defer { server.stop() }
        try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            let plain = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "plain", trigger: "t")
            #expect(plain.serverDateMs == nil)
            let dated = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "dated", trigger: "t")
            #expect(dated.serverDateMs == 784_111_777_000)
        }
    }

    @Test("unusable configurations are rejected at init", arguments: [
        ("ftp://x/v1", "tok"), ("not a url", "tok"), ("http:///v1", "tok"), ("https://api.akua.dev/v1?x=1", "tok"),
        ("https://api.akua.dev/v1", ""), ("https://api.akua.dev/v1", "tok en"), ("https://api.akua.dev/v1", "tök"),
        ("https://api.akua.dev/v1", "tok\n"),
    ])
    func badConfiguration(baseURL: String, token: String) {
        let configuration = AkuaClientConfiguration(baseURL: baseURL, token: token, environment: [:])
        #expect(throws: AkuaAPIError.self) { try AkuaClient(configuration: configuration, logger: LogCapture().logger()) }
    }

    @Test("context, timeout and proxy settings are validated at init")
    func badSettings() {
        let logger = LogCapture().logger()
        func check(_ configure: (inout AkuaClientConfiguration) -> Void) {
            var configuration = AkuaClientConfiguration(baseURL: "https://api.akua.dev/v1", token: "t", environment: [:])
            configure(&configuration)
            #expect(throws: AkuaAPIError.self) { try AkuaClient(configuration: configuration, logger: logger) }
        }
        check { $0.context = "" }
        check { $0.context = String(repeating: "w", count: 54) }
        check { $0.timeout = .zero }
        check { $0.maxResponseBytes = 0 }
        check { $0.environment = ["HTTPS_PROXY": "https://proxy:443"] }
    }

    @Test("a client released without shutdown does not crash, and a shut-down client refuses requests")
    func lifecycle() async throws {
        let server = try ScriptedHTTPServer { _ in ScriptedHTTPServer.response(200, body: #"{"data":[],"has_more":false}"#) }
        defer { server.stop() }
        let configuration = AkuaClientConfiguration(baseURL: server.baseURL, token: "t", environment: [:])
        do {
            let dropped = try AkuaClient(configuration: configuration, logger: LogCapture().logger())
            _ = try await dropped.listMachines()
        }
        let client = try AkuaClient(configuration: configuration, logger: LogCapture().logger())
        _ = try await client.listMachines()
        await client.shutdown()
        await client.shutdown()
        #expect(await apiError { try await client.listMachines() } == .cancelled)
    }

    @Test("the create body is exactly {\"trigger\": ...}")
    func createBody() throws {
        for trigger in ["a/b \u{1F4A5}", "q\"uote\\back", "ctl\u{0}\u{1}\n\t\u{1F}", "é日本", ""] {
            let data = AkuaClient.createBody(trigger: trigger)
            let object = try JSONSerialization.jsonObject(with: data) as? [String: String]
            #expect(object == ["trigger": trigger])
        }
    }
}
