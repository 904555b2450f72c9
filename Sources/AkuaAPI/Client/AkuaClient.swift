import AsyncHTTPClient
import DriftCore
import DriftProxy
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization

/// Client of Akua's machines and drift report API.
///
/// Owns one `HTTPClient` (a connection pool with TLS certificate verification on, redirects off, and the
/// proxy from the environment); call `shutdown()` once before releasing it. Every method either returns a
/// decoded value or throws a classified `AkuaAPIError`; none of them retries (retry policy is the caller's).
/// A client released without `shutdown()` closes its pool in the background.
public final class AkuaClient: Sendable {
    /// The configuration this client was created with.
    public let configuration: AkuaClientConfiguration
    private let resolved: ResolvedConfiguration
    private let http: HTTPClient
    private let logger: Logger
    private let isShutDown = Mutex(false)
    /// Told each request's HTTP status (nil: no response: timeout, refused connection, transport error).
    private let onResponse: @Sendable (_ status: Int?) -> Void

    /// Creates a client; throws `.configuration` when the base URL, token, context or proxy setting is unusable.
    public init(
        configuration: AkuaClientConfiguration, logger: Logger, onResponse: @escaping @Sendable (_ status: Int?) -> Void = { _ in }
    ) throws(AkuaAPIError) {
        self.onResponse = onResponse
        let resolved = try ResolvedConfiguration(configuration)
        self.configuration = configuration
        self.resolved = resolved
        self.logger = logger

        let timeout = Self.timeAmount(configuration.timeout)
        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: min(timeout, .seconds(10)), read: timeout),
            proxy: resolved.proxy?.clientProxy,
            decompression: .disabled
        )
        // Fail fast on refused connections; the daemon owns retries and backoff.
        http.connectionPool.retryConnectionEstablishment = false
        http.connectionPool.idleTimeout = .seconds(60)
        // One connection per concurrent request: the caller bounds concurrency (`max_in_flight`, at most
        // 1024), so requests never queue behind AsyncHTTPClient's default of 8 connections per host.
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        self.http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: http,
            backgroundActivityLogger: Logger(label: "akua-api.http", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        if let proxy = resolved.proxy {
            logger.debug("Akua API client uses a proxy", metadata: ["proxy": "\(proxy)"])
        }
    }

    /// Closes the connection pool; requests after this fail. Safe to call more than once.
    public func shutdown() async {
        guard isShutDown.withLock({ done in defer { done = true }; return !done }) else { return }
        do {
            try await http.shutdown()
        } catch {
            // Already shut down: nothing left to release.
        }
    }

    deinit {
        if !isShutDown.withLock({ $0 }) {
            http.shutdown { _ in }
        }
    }

    // MARK: - Operations

    /// `POST /machines/{id}/drift_reports` with body `{"trigger": ...}` and the given `idempotency-key`.
    ///
    /// A 200 (or an `idempotent-replayed: true` header) means the API replayed an earlier create with this key.
    public func createDriftReport(
        machineID: String, idempotencyKey: String, trigger: String
    ) async throws(AkuaAPIError) -> CreatedDriftReport {
        try Self.check(Validation.identifier(machineID, name: "machine id", maxLength: 54))
        try Self.check(Validation.headerValue(idempotencyKey, name: "idempotency-key", maxLength: 64))
        return try await sendCreate(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger, context: nil)
    }

    /// `GET /machines/{id}/drift_reports/{report_id}`.
    public func getDriftReport(machineID: String, reportID: String) async throws(AkuaAPIError) -> DriftReport {
        try Self.check(Validation.identifier(machineID, name: "machine id", maxLength: 54))
        try Self.check(Validation.identifier(reportID, name: "report id", maxLength: 1024))
        let endpoint = AkuaEndpoint.getDriftReport(machineID: machineID, reportID: reportID)
        let response = try await send(RawRequest(endpoint: endpoint))
        try response.expect(statuses: [200])
        let report = try response.decode(DriftReport.self)
        try Self.checkMachine(report, machineID)
        return report
    }

    /// `GET /machines/{id}/drift_reports`, one page; `limit` is 1-100 (the API defaults to 50).
    public func listDriftReports(
        machineID: String, cursor: String? = nil, limit: Int? = nil, state: ReportState? = nil
    ) async throws(AkuaAPIError) -> Page<DriftReport> {
        try Self.check(Validation.identifier(machineID, name: "machine id", maxLength: 54))
        try Self.checkPaging(cursor: cursor, limit: limit)
        let query = PercentEncoding.query([
            ("cursor", cursor), ("limit", limit.map(String.init)), ("state", state?.rawValue),
        ])
        let response = try await send(RawRequest(endpoint: .listDriftReports(machineID: machineID), query: query))
        try response.expect(statuses: [200])
        let page = try response.decode(Page<DriftReport>.self)
        for report in page.data { try Self.checkMachine(report, machineID) }
        return page
    }

    /// `GET /machines/{id}` (documented, not deprecated): one machine. Confirms an `unknownMachine` from a
    /// drift report operation: `unknownMachine` here means the machine is gone, a Machine means it exists.
    public func getMachine(machineID: String) async throws(AkuaAPIError) -> Machine {
        try Self.check(Validation.identifier(machineID, name: "machine id", maxLength: 54))
        let response = try await send(RawRequest(endpoint: .getMachine(machineID: machineID)))
        try response.expect(statuses: [200])
        let machine = try response.decode(Machine.self)
        guard machine.id == machineID else {
            throw .invalidReport("asked for machine \"\(ErrorText.sanitize(machineID, limit: 64))\", got "
                + "\"\(ErrorText.sanitize(machine.id, limit: 64))\"")
        }
        return machine
    }

    /// Same as `getMachine(machineID:)`.
    public func getMachine(id: String) async throws(AkuaAPIError) -> Machine {
        try await getMachine(machineID: id)
    }

    /// `GET /machines`, one page, optionally filtered by cluster and lifecycle state; `limit` is 1-100.
    public func listMachines(
        cursor: String? = nil, limit: Int? = nil, clusterID: String? = nil, state: MachineLifecycleState? = nil
    ) async throws(AkuaAPIError) -> Page<Machine> {
        try Self.checkPaging(cursor: cursor, limit: limit)
        if let clusterID { try Self.check(Validation.identifier(clusterID, name: "cluster id", maxLength: 54)) }
        if let state, state.rawValue.isEmpty { throw .invalidRequest(status: nil, detail: "state must not be empty") }
        let query = PercentEncoding.query([
            ("cursor", cursor), ("limit", limit.map(String.init)), ("cluster_id", clusterID), ("state", state?.rawValue),
        ])
        let response = try await send(RawRequest(endpoint: .listMachines, query: query))
        try response.expect(statuses: [200])
        return try response.decode(Page<Machine>.self)
    }

    // MARK: - Internals (internal so tests can bypass validation)

    /// The create without input validation; `context` overrides the configured `akua-context`.
    func sendCreate(
        machineID: String, idempotencyKey: String, trigger: String, context: String?
    ) async throws(AkuaAPIError) -> CreatedDriftReport {
        let body: Data
        do {
            body = try JSONEncoder().encode(CreateBody(trigger: trigger))
        } catch {
            throw .invalidRequest(status: nil, detail: "the trigger cannot be encoded as JSON")
        }
        var request = RawRequest(endpoint: .createDriftReport(machineID: machineID), body: body)
        request.headers.append(("idempotency-key", idempotencyKey))
        request.context = context
        let response = try await send(request)
        try response.expect(statuses: [200, 201])
        let report = try response.decode(DriftReport.self)
        try Self.checkMachine(report, machineID)
        let replayedHeader = response.header("idempotent-replayed") ?? response.header("idempotency-replayed")
        return CreatedDriftReport(
            report: report,
            location: response.header("location"),
            replayed: response.status == 200 || replayedHeader?.lowercased() == "true",
            status: response.status,
            serverDateMs: response.header("date").flatMap(Self.serverDateMs))
    }

    /// Unix milliseconds of a `Date` header (an HTTP-date, RFC 9110 §6.6.1); nil when absent or unparseable.
    /// Whole seconds, as the header carries; bounded by year 9999, so the conversion cannot overflow.
    static func serverDateMs(_ header: String) -> Int64? {
        // `RetryAfter` holds the one strict HTTP-date parser; a Date header is never bare digits.
        guard case .date(let seconds)? = RetryAfter.parse(header) else { return nil }
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? nil : ms
    }

    /// One HTTP exchange as the client performs it.
    struct RawRequest: Sendable {
        var endpoint: AkuaEndpoint
        /// Already-encoded query string (without `?`), or empty.
        var query: String = ""
        var body: Data? = nil
        /// Extra headers (e.g. `idempotency-key`).
        var headers: [(String, String)] = []
        /// Replaces the configured `akua-context` when set.
        var context: String? = nil
    }

    /// A complete response: status, headers and the size-capped body.
    struct RawResponse: Sendable {
        var endpoint: AkuaEndpoint
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var secrets: [String]

        /// The last value of header `name`, if any.
        func header(_ name: String) -> String? { headers[name].last }

        /// Throws the classified error unless the status is one of `statuses`.
        func expect(statuses: Set<Int>) throws(AkuaAPIError) {
            guard statuses.contains(status) else {
                if (200..<300).contains(status) { throw .unexpectedStatus(status) }
                throw AkuaAPIError.classify(
                    status: status, headers: headers.map { ($0.name, $0.value) }, body: body, endpoint: endpoint,
                    secrets: secrets)
            }
        }

        /// Decodes a JSON success body, checking the content type first.
        func decode<T: Decodable>(_ type: T.Type) throws(AkuaAPIError) -> T {
            if let contentType = header("content-type") {
                let mediaType = contentType.split(separator: ";").first.map {
                    $0.trimmingCharacters(in: .whitespaces).lowercased()
                } ?? ""
                guard mediaType == "application/json" || mediaType.hasSuffix("+json") else {
                    throw .badResponse("expected application/json, got \"\(ErrorText.sanitize(mediaType, limit: 64))\"")
                }
            }
            return try WireDecoding.decode(T.self, from: body)
        }
    }

    struct CreateBody: Encodable {
        var trigger: String
    }

    /// Sends `request` and reads the whole response within the configured timeout.
    func send(_ request: RawRequest) async throws(AkuaAPIError) -> RawResponse {
        let url = resolved.base + request.endpoint.path + (request.query.isEmpty ? "" : "?" + request.query)
        var http = HTTPClientRequest(url: url)
        http.method = HTTPMethod(rawValue: request.endpoint.method)
        http.headers.add(name: "Authorization", value: "Bearer \(configuration.token)")
        http.headers.add(name: "Accept", value: "application/json")
        http.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let context = request.context ?? configuration.context {
            http.headers.add(name: "akua-context", value: context)
        }
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        if let body = request.body {
            http.headers.add(name: "Content-Type", value: "application/json")
            http.body = .bytes(ByteBuffer(data: body))
        }

        let started = ContinuousClock.now
        let metadata: Logger.Metadata = ["method": "\(request.endpoint.method)", "path": "\(request.endpoint.path)"]
        do throws(AkuaAPIError) {
            let response = try await exchange(http, endpoint: request.endpoint)
            onResponse(response.status)
            var done = metadata
            done["status"] = "\(response.status)"
            done["duration_ms"] = "\(Self.milliseconds(ContinuousClock.now - started))"
            logger.debug("Akua API response", metadata: done)
            return response
        } catch {
            onResponse(error.httpStatus)
            var failed = metadata
            failed["error"] = "\(error)"
            failed["duration_ms"] = "\(Self.milliseconds(ContinuousClock.now - started))"
            logger.debug("Akua API request failed", metadata: failed)
            throw error
        }
    }

    private enum Outcome: Sendable {
        case response(RawResponse)
        case timedOut
    }

    /// Runs the request and body collection against a whole-request deadline.
    private func exchange(_ request: HTTPClientRequest, endpoint: AkuaEndpoint) async throws(AkuaAPIError) -> RawResponse {
        let timeout = resolved.timeout
        let deadline = NIODeadline.now() + Self.timeAmount(timeout)
        let maxBytes = configuration.maxResponseBytes
        let secrets = [configuration.token]
        let http = self.http
        do {
            let outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    let response = try await http.execute(request, deadline: deadline)
                    let status = Int(response.status.code)
                    let body: ByteBuffer
                    if (200..<300).contains(status) {
                        body = try await response.body.collect(upTo: maxBytes)
                    } else {
                        // Error bodies only feed the classification: a short one is enough, a huge one is dropped.
                        do {
                            body = try await response.body.collect(upTo: min(maxBytes, 64 * 1024))
                        } catch is NIOTooManyBytesError {
                            body = ByteBuffer()
                        }
                    }
                    return .response(RawResponse(
                        endpoint: endpoint, status: status, headers: response.headers, body: Data(buffer: body),
                        secrets: secrets))
                }
                group.addTask {
                    // An event loop timer, not `Task.sleep`: cancelled with the group, it leaves no wake-up behind.
                    try await EventLoopSleep.sleep(until: deadline, on: http.eventLoopGroup.any())
                    return .timedOut
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { return Outcome.timedOut }
                return first
            }
            switch outcome {
            case .response(let response): return response
            case .timedOut: throw AkuaAPIError.timeout
            }
        } catch let error as AkuaAPIError {
            throw error
        } catch {
            throw Self.map(error, limit: maxBytes, target: resolved.connectionTarget)
        }
    }

    private static func check(_ problem: String?) throws(AkuaAPIError) {
        if let problem { throw .invalidRequest(status: nil, detail: problem) }
    }

    private static func checkPaging(cursor: String?, limit: Int?) throws(AkuaAPIError) {
        if let limit, !(1...100).contains(limit) {
            throw .invalidRequest(status: nil, detail: "limit must be 1-100, got \(limit)")
        }
        if let cursor, cursor.isEmpty || cursor.utf8.count > 2048 {
            throw .invalidRequest(status: nil, detail: "cursor must be 1-2048 bytes")
        }
    }

    /// A report for another machine than the one asked about is an invalid report, never silently accepted.
    private static func checkMachine(_ report: DriftReport, _ machineID: String) throws(AkuaAPIError) {
        guard report.machineID == machineID else {
            throw .invalidReport(
                "report \"\(ErrorText.sanitize(report.id, limit: 64))\" is for machine "
                    + "\"\(ErrorText.sanitize(report.machineID, limit: 64))\", not the one requested")
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanos.overflow else { return .nanoseconds(Int64.max / 2) }
        return .nanoseconds(nanos.partialValue + attoseconds / 1_000_000_000)
    }

    /// Whole milliseconds of `duration`, saturating instead of overflowing.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? Int64.min : Int64.max }
        let (total, overflow2) = ms.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return overflow2 ? (ms < 0 ? Int64.min : Int64.max) : total
    }
}
