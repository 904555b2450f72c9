import AsyncHTTPClient
import DriftCore
import DriftProxy
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import Synchronization

/// Client of Akua's machines and drift report API.
///
/// Owns one `HTTPClient` (a connection pool with TLS certificate verification on, redirects off, and the
/// proxy from the environment) on the API's own event loop thread; call `shutdown()` once before releasing
/// it. Every method either returns a decoded value or throws a classified `AkuaAPIError`; none of them
/// retries (retry policy is the caller's).
/// A client released without `shutdown()` closes its pool in the background.
public final class AkuaClient: Sendable {
    /// The configuration this client was created with.
    public let configuration: AkuaClientConfiguration
    private let resolved: ResolvedConfiguration
    private let http: HTTPClient
    /// The API's event loop: one thread for every client of the process (a reload's new client too), never
    /// shut down, like NIO's singleton. A check's request, response and decoding stay on it instead of
    /// waking one of NIO's shared loops per connection: about 8% less CPU per check at 28 checks/s.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
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
        // No tracing: the daemon bootstraps no tracer, and a span per request is a cost on every check.
        http.tracing.tracer = nil
        // One connection per concurrent request: the caller bounds concurrency (`max_in_flight`, at most
        // 1024), so requests never queue behind AsyncHTTPClient's default of 8 connections per host.
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        self.http = HTTPClient(
            eventLoopGroup: Self.eventLoops,
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
        let request = try Self.createRequest(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger, context: context)
        return try Self.created(from: try await send(request), machineID: machineID)
    }

    /// The create as a callback (the daemon's check path: no task and no hop from the event loop):
    /// `completion` runs once, on an event loop thread. Returns a closure that cancels the request.
    @discardableResult
    public func createDriftReport(
        machineID: String, idempotencyKey: String, trigger: String,
        completion: @escaping @Sendable (Result<CreatedDriftReport, AkuaAPIError>) -> Void
    ) -> @Sendable () -> Void {
        let request: RawRequest
        do throws(AkuaAPIError) {
            try Self.check(Validation.identifier(machineID, name: "machine id", maxLength: 54))
            try Self.check(Validation.headerValue(idempotencyKey, name: "idempotency-key", maxLength: 64))
            request = try Self.createRequest(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger, context: nil)
        } catch {
            completion(.failure(error))
            return {}
        }
        let task = send(request) { result in
            completion(result.flatMap { response in
                Result { () throws(AkuaAPIError) in try Self.created(from: response, machineID: machineID) }
            })
        }
        return { task?.cancel() }
    }

    private static func createRequest(
        machineID: String, idempotencyKey: String, trigger: String, context: String?
    ) throws(AkuaAPIError) -> RawRequest {
        var request = RawRequest(endpoint: .createDriftReport(machineID: machineID), body: createBody(trigger: trigger))
        request.headers.append(("idempotency-key", idempotencyKey))
        request.context = context
        return request
    }

    /// `{"trigger":"..."}`, written directly (a JSONEncoder per check cost more than the rest of the request).
    static func createBody(trigger: String) -> Data {
        var body: [UInt8] = Array(#"{"trigger":"#.utf8)
        JSONValue.write(string: trigger, to: &body)
        body.append(UInt8(ascii: "}"))
        return Data(body)
    }

    /// The created (or replayed) report of a create's response, or the classified error.
    private static func created(from response: RawResponse, machineID: String) throws(AkuaAPIError) -> CreatedDriftReport {
        try response.expect(statuses: [200, 201])
        let report = try response.decode(DriftReport.self)
        try checkMachine(report, machineID)
        let replayedHeader = response.header("idempotent-replayed") ?? response.header("idempotency-replayed")
        return CreatedDriftReport(
            report: report,
            location: response.header("location"),
            replayed: response.status == 200 || replayedHeader?.lowercased() == "true",
            status: response.status,
            serverDateMs: response.header("date").flatMap(serverDateMs))
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

    /// Sends `request` and reads the whole response within the configured timeout.
    func send(_ request: RawRequest) async throws(AkuaAPIError) -> RawResponse {
        // The request, and whether the calling task was cancelled (before or after the request started).
        let handle = Mutex<(task: HTTPClient.Task<RawResponse>?, cancelled: Bool)>((nil, false))
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<RawResponse, AkuaAPIError>, Never>) in
                let task = send(request) { continuation.resume(returning: $0) }
                if handle.withLock({ $0.task = task; return $0.cancelled }) { task?.cancel() }
            }
        } onCancel: {
            handle.withLock { $0.cancelled = true; return $0.task }?.cancel()
        }
        if case .failure = result, Task.isCancelled { throw .cancelled }
        return try result.get()
    }

    /// Sends `request` and reads the whole response within the configured timeout; `completion` runs once,
    /// on an event loop thread (no task, no thread hop: the daemon's check path). Returns the request, to
    /// cancel it, or nil when it failed before it started (`completion` has run).
    @discardableResult
    func send(
        _ request: RawRequest, completion: @escaping @Sendable (Result<RawResponse, AkuaAPIError>) -> Void
    ) -> HTTPClient.Task<RawResponse>? {
        let url = resolved.base + request.endpoint.path + (request.query.isEmpty ? "" : "?" + request.query)
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(configuration.token)")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: configuration.userAgent)
        if let context = request.context ?? configuration.context {
            headers.add(name: "akua-context", value: context)
        }
        for (name, value) in request.headers { headers.add(name: name, value: value) }
        if request.body != nil { headers.add(name: "Content-Type", value: "application/json") }

        let started = ContinuousClock.now
        let endpoint = request.endpoint
        let logger = self.logger
        let onResponse = self.onResponse
        let limit = configuration.maxResponseBytes
        let target = resolved.connectionTarget
        let finish: @Sendable (Result<RawResponse, AkuaAPIError>) -> Void = { result in
            switch result {
            case .success(let response): onResponse(response.status)
            case .failure(let error): onResponse(error.httpStatus)
            }
            // The metadata is built only when it is logged: this runs for every check.
            if logger.logLevel <= .debug {
                var metadata: Logger.Metadata = ["method": "\(endpoint.method)", "path": "\(endpoint.path)"]
                metadata["duration_ms"] = "\(Self.milliseconds(ContinuousClock.now - started))"
                switch result {
                case .success(let response):
                    metadata["status"] = "\(response.status)"
                    logger.debug("Akua API response", metadata: metadata)
                case .failure(let error):
                    metadata["error"] = "\(error)"
                    logger.debug("Akua API request failed", metadata: metadata)
                }
            }
            completion(result)
        }

        let http: HTTPClient.Request
        do {
            http = try HTTPClient.Request(
                url: url, method: HTTPMethod(rawValue: endpoint.method), headers: headers,
                body: request.body.map { .byteBuffer(ByteBuffer(data: $0)) })
        } catch {
            finish(.failure(Self.map(error, limit: limit, target: target)))
            return nil
        }
        let collector = ResponseCollector(endpoint: endpoint, maxBytes: limit, secrets: [configuration.token])
        let deadline = NIODeadline.now() + Self.timeAmount(resolved.timeout)
        let task = self.http.execute(request: http, delegate: collector, deadline: deadline)
        task.futureResult.whenComplete { result in
            switch result {
            case .success(let response): finish(.success(response))
            case .failure(let error as ResponseCollector.BodyTooLarge): _ = error; finish(.failure(.oversized(limit: limit)))
            case .failure(let error): finish(.failure(Self.map(error, limit: limit, target: target)))
            }
        }
        return task
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
