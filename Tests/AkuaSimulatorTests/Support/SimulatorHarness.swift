import AkuaSimulator
import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A settable clock for expiry and flip tests.
final class ManualClock: Sendable {
    private let value: Mutex<Double>

    init(_ start: Double = 1_800_000_000.25) {
        value = Mutex(start)
    }

    var now: Double { value.withLock { $0 } }

    func advance(_ seconds: Double) {
        value.withLock { $0 += seconds }
    }

    var closure: @Sendable () -> Double { { [self] in now } }
}

/// One HTTP exchange, body kept as bytes.
struct HTTPResult {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (nil when it is not one).
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// `errors[0].code` of an ApiErrorResponse.
    var errorCode: Int? { ((json?["errors"] as? [[String: Any]])?.first?["code"] as? Int) }
    /// `errors[0].path` of an ApiErrorResponse.
    var errorPath: [String]? { ((json?["errors"] as? [[String: Any]])?.first?["path"] as? [String]) }
}

/// HTTP methods the tests use (kept local so the tests need not import NIOHTTP1).
enum Method: String {
    case GET, POST, PUT, DELETE
}

/// A simulator on a loopback port plus a tiny HTTP helper around AsyncHTTPClient.
struct SimulatorHarness {
    static let token = "sk_akua_test_token"

    let server: SimulatorServer

    static func start(
        machines: [SimulatedMachine] = [SimulatedMachine(id: "mch_a", name: "web-1"), SimulatedMachine(id: "mch_b", name: "db-1", scenario: .fixed(.drifted))],
        configure: (inout SimulatorOptions) -> Void = { _ in }
    ) async throws -> SimulatorHarness {
        var options = SimulatorOptions(token: token, machines: machines)
        configure(&options)
        return SimulatorHarness(server: try await SimulatorServer.start(options: options))
    }

    var root: String { "http://127.0.0.1:\(server.port)" }

    /// Request against `root + path` (path includes `/v1` or `/_sim`).
    func send(
        _ method: Method = .GET,
        _ path: String,
        token: String? = SimulatorHarness.token,
        headers: [(String, String)] = [],
        body: String? = nil,
        contentType: String? = "application/json",
        timeoutMs: Int64 = 5000
    ) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: root + path)
        request.method = .init(rawValue: method.rawValue)
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            if let contentType { request.headers.add(name: "content-type", value: contentType) }
            request.body = .bytes(Array(body.utf8))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeoutMs))
        let buffer = try await response.body.collect(upTo: 8 << 20)
        var headerMap: [String: String] = [:]
        for header in response.headers { headerMap[header.name.lowercased()] = header.value }
        return HTTPResult(status: Int(response.status.code), headers: headerMap, body: Array(buffer.readableBytesView))
    }

    /// POST a drift report.
    func create(
        _ machineID: String = "mch_a", key: String? = nil, body: String? = "{\"trigger\":\"test\"}",
        contentType: String? = "application/json", headers: [(String, String)] = [], timeoutMs: Int64 = 5000
    ) async throws -> HTTPResult {
        try await send(
            .POST, "/v1/machines/\(machineID)/drift_reports",
            headers: (key.map { [("idempotency-key", $0)] } ?? []) + headers, body: body, contentType: contentType,
            timeoutMs: timeoutMs
        )
    }

    func shutdown() async {
        await server.shutdown()
    }
}

/// Runs `body` with a started harness and always shuts it down.
func withSimulator(
    machines: [SimulatedMachine] = [SimulatedMachine(id: "mch_a", name: "web-1"), SimulatedMachine(id: "mch_b", name: "db-1", scenario: .fixed(.drifted))],
    configure: (inout SimulatorOptions) -> Void = { _ in },
    _ body: (SimulatorHarness) async throws -> Void
) async throws {
    let harness = try await SimulatorHarness.start(machines: machines, configure: configure)
    do {
        try await body(harness)
    } catch {
        await harness.shutdown()
        throw error
    }
    await harness.shutdown()
}

/// Structural equality of two JSONSerialization values (compared through sorted-key re-serialisation).
func jsonEqual(_ a: Any, _ b: Any) -> Bool {
    guard let left = try? JSONSerialization.data(withJSONObject: [a], options: .sortedKeys),
        let right = try? JSONSerialization.data(withJSONObject: [b], options: .sortedKeys)
    else { return false }
    return left == right
}

/// Whether a plain TCP connect to 127.0.0.1:`port` succeeds (no HTTP client pooling or retries).
func tcpConnects(port: Int, host: String = "127.0.0.1") -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr(host)
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return result == 0
}
