import Hummingbird
import NIOCore

/// The simulator's single HTTP responder: hand-rolled dispatch (cheaper than a router and gives full
/// control of error shapes) for `/v1` (Akua API) and `/_sim` (admin).
struct SimulatorResponder: HTTPResponder {
    typealias Context = SimulatorRequestContext

    let state: SimulatorState
    let hangs: HangRegistry

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path == "/v1" || path.hasPrefix("/v1/") {
            return try await v1(request, context: context)
        }
        if path == "/_sim" || path.hasPrefix("/_sim/") {
            return await admin(request, context: context)
        }
        return APIError.notFound(resource: "route", id: path)
    }
}

/// Thrown after a fault closed the connection on purpose, so no response is written.
struct ConnectionDroppedOnPurpose: Error {}

// MARK: - /v1

extension SimulatorResponder {
    enum V1Route {
        case listMachines
        case getMachine(String)
        case listReports(String)
        case createReport(String)
        case getReport(String, String)
        case methodNotAllowed(allow: String, machineID: String?)
        case notFound(machineID: String?)

        init(method: HTTPRequest.Method, segments: [String]) {
            switch segments.count {
            case 1 where segments[0] == "machines":
                self = method == .get ? .listMachines : .methodNotAllowed(allow: "GET", machineID: nil)
            case 2 where segments[0] == "machines":
                self = method == .get ? .getMachine(segments[1]) : .methodNotAllowed(allow: "GET", machineID: segments[1])
            case 3 where segments[0] == "machines" && segments[2] == "drift_reports":
                switch method {
                case .get: self = .listReports(segments[1])
                case .post: self = .createReport(segments[1])
                default: self = .methodNotAllowed(allow: "GET, POST", machineID: segments[1])
                }
            case 4 where segments[0] == "machines" && segments[2] == "drift_reports":
                self = method == .get
                    ? .getReport(segments[1], segments[3]) : .methodNotAllowed(allow: "GET", machineID: segments[1])
            default:
                self = .notFound(machineID: segments.count >= 2 && segments[0] == "machines" ? segments[1] : nil)
            }
        }

        var machineID: String? {
            switch self {
            case .listMachines: nil
            case .getMachine(let id), .listReports(let id), .createReport(let id), .getReport(let id, _): id
            case .methodNotAllowed(_, let id), .notFound(let id): id
            }
        }

        var isCreate: Bool {
            if case .createReport = self { return true }
            return false
        }
    }

    /// A processed `/v1` request: the response, plus the report it carries (for body faults).
    struct V1Result {
        var response: Response
        var report: StoredReport?
        var status: HTTPResponse.Status
        var headers: HTTPFields
    }

    func v1(_ request: Request, context: Context) async throws -> Response {
        let route = V1Route(method: request.method, segments: RequestParsing.segments(of: request.uri.path))
        let rawKey = route.isCreate ? request.headers[HeaderNames.idempotencyKey] : nil
        let validKey = rawKey.flatMap { (1...64).contains(RequestParsing.length($0)) ? $0 : nil }
        let plan = state.begin(machineID: route.machineID, isCreate: route.isCreate, idempotencyKey: validKey)

        if plan.latencyMs > 0 {
            try? await Task.sleep(for: .milliseconds(plan.latencyMs))
        }
        switch plan.outcome {
        case .error(let status), .failNext(let status):
            return APIError.response(
                Self.status(code: status), code: SimulatorErrorCode.simulatedServerError,
                message: "Simulated upstream failure (HTTP \(status))"
            )
        case .rateLimit:
            let value =
                plan.retryAfterHTTPDate
                ? HTTPDate.format(unixSeconds: Int64(state.now().rounded(.down)) + Int64(plan.retryAfterSeconds))
                : String(plan.retryAfterSeconds)
            return APIError.response(
                .tooManyRequests, code: SimulatorErrorCode.rateLimited, message: "Rate limit exceeded",
                headers: [.retryAfter: value]
            )
        default:
            break
        }

        let result = await process(route, request: request, rawKey: rawKey)

        switch plan.outcome {
        case .drop:
            try? await context.channel.close().get()
            throw ConnectionDroppedOnPurpose()
        case .hang:
            await hangs.wait(closeFuture: context.channel.closeFuture)
            try? await context.channel.close().get()
            throw ConnectionDroppedOnPurpose()
        case .malformed, .missingState, .unknownState, .oversized:
            guard let report = result.report else { return result.response }
            state.recordFault(plan.outcome)
            let body: ByteBuffer
            switch plan.outcome {
            case .malformed:
                let full = Rendering.report(report)
                var buffer = ByteBuffer(string: full)
                buffer = buffer.getSlice(at: 0, length: full.utf8.count / 2) ?? buffer
                buffer.writeString("\u{0}<!-- upstream error")
                body = buffer
            case .missingState:
                body = ByteBuffer(string: Rendering.report(report, state: .missing))
            case .unknownState:
                body = ByteBuffer(string: Rendering.report(report, state: .unknown))
            default:
                body = ByteBuffer(string: Rendering.report(report, oversized: true))
            }
            return Response(status: result.status, headers: result.headers, body: .init(byteBuffer: body))
        default:
            return result.response
        }
    }

    private func plain(_ response: Response) -> V1Result {
        V1Result(response: response, report: nil, status: response.status, headers: response.headers)
    }

    private func process(_ route: V1Route, request: Request, rawKey: String?) async -> V1Result {
        // Authentication first, like the real API.
        guard let authorization = request.headers[.authorization] else {
            return plain(APIError.response(
                .unauthorized, code: SimulatorErrorCode.unauthorized, message: "Missing bearer token",
                path: ["header", "authorization"], headers: [.wwwAuthenticate: "Bearer"]
            ))
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", state.tokenMatches(parts[1]) else {
            return plain(APIError.response(
                .unauthorized, code: SimulatorErrorCode.unauthorized, message: "Invalid API token",
                path: ["header", "authorization"], headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""]
            ))
        }
        if let contextHeader = request.headers[HeaderNames.akuaContext],
            !(1...53).contains(RequestParsing.length(contextHeader))
        {
            return plain(APIError.invalid("akua-context must be 1-53 characters", path: ["header", "akua-context"]))
        }
        if let id = route.machineID, !(1...54).contains(RequestParsing.length(id)) {
            return plain(APIError.invalid("id must be 1-54 characters", path: ["path", "id"]))
        }

        switch route {
        case .listMachines:
            return plain(listMachines(request))
        case .getMachine(let id):
            guard let machine = state.machine(id: id) else { return plain(APIError.notFound(resource: "machine", id: id)) }
            var w = JSONWriter()
            Rendering.machine(machine, full: true, into: &w)
            return plain(APIError.json(.ok, w.output))
        case .listReports(let id):
            return plain(listReports(request, machineID: id))
        case .createReport(let id):
            return await createReport(request, machineID: id, rawKey: rawKey)
        case .getReport(let id, let reportID):
            switch state.report(machineID: id, reportID: reportID) {
            case .unknownMachine:
                return plain(APIError.notFound(resource: "machine", id: id))
            case .unknownReport:
                return plain(APIError.notFound(resource: "drift_report", id: reportID))
            case .found(let report):
                let headers: HTTPFields = [.contentType: "application/json", .eTag: report.etag]
                let response = Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Rendering.report(report))))
                return V1Result(response: response, report: report, status: .ok, headers: headers)
            }
        case .methodNotAllowed(let allow, _):
            return plain(APIError.response(
                .methodNotAllowed, code: SimulatorErrorCode.methodNotAllowed,
                message: "Method \(request.method.rawValue) not allowed", headers: [.allow: allow]
            ))
        case .notFound:
            return plain(APIError.notFound(resource: "route", id: request.uri.path))
        }
    }

    /// Parses `limit` (1-100, default 50); nil result means the response to send.
    private func parseLimit(_ request: Request) -> Result<Int, ResponseBox> {
        guard let raw = request.uri.queryParameters["limit"] else { return .success(50) }
        guard let limit = Int(raw), (1...100).contains(limit) else {
            return .failure(ResponseBox(APIError.invalid("limit must be an integer between 1 and 100", path: ["query", "limit"])))
        }
        return .success(limit)
    }

    private func listMachines(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        let limit: Int
        switch parseLimit(request) {
        case .success(let value): limit = value
        case .failure(let box): return box.response
        }
        var start = 0
        if let cursor = query["cursor"], !cursor.isEmpty {
            guard let position = RequestParsing.decodeCursor(prefix: "mc_", String(cursor)) else {
                return APIError.invalid("cursor is not valid", path: ["query", "cursor"])
            }
            start = position
        }
        var full = false
        if let view = query["view"] {
            switch view {
            case "basic": full = false
            case "full": full = true
            default: return APIError.invalid("view must be basic or full", path: ["query", "view"])
            }
        }
        var clusterID: String?
        if let cluster = query["cluster_id"] {
            guard (1...54).contains(RequestParsing.length(cluster)) else {
                return APIError.invalid("cluster_id must be 1-54 characters", path: ["query", "cluster_id"])
            }
            clusterID = String(cluster)
        }
        var onlyEmpty = false
        if let lifecycle = query["state"] {
            let states: Set<Substring> = ["ACTIVE", "PROVISIONING", "SUSPENDING", "SUSPENDED", "RESUMING", "DELETING"]
            guard states.contains(lifecycle) else {
                return APIError.invalid(
                    "state must be one of ACTIVE, PROVISIONING, SUSPENDING, SUSPENDED, RESUMING, DELETING",
                    path: ["query", "state"]
                )
            }
            // Every simulated machine is ACTIVE.
            onlyEmpty = lifecycle != "ACTIVE"
        }
        let (page, next) = onlyEmpty ? ([], nil) : state.listMachines(from: start, limit: limit, clusterID: clusterID)
        var w = JSONWriter(capacity: 128 + page.count * 520)
        w.beginObject()
        w.key("data")
        w.beginArray()
        for machine in page { Rendering.machine(machine, full: full, into: &w) }
        w.endArray()
        w.key("has_more"); w.bool(next != nil)
        w.key("next_cursor"); w.optionalString(next.map { RequestParsing.encodeCursor(prefix: "mc_", $0) })
        w.endObject()
        return APIError.json(.ok, w.output)
    }

    private func listReports(_ request: Request, machineID: String) -> Response {
        let query = request.uri.queryParameters
        let limit: Int
        switch parseLimit(request) {
        case .success(let value): limit = value
        case .failure(let box): return box.response
        }
        var before: Int?
        if let cursor = query["cursor"], !cursor.isEmpty {
            guard let position = RequestParsing.decodeCursor(prefix: "rc_", String(cursor)) else {
                return APIError.invalid("cursor is not valid", path: ["query", "cursor"])
            }
            before = position
        }
        var filter: ReportStateName?
        if let raw = query["state"] {
            guard let parsed = ReportStateName(rawValue: String(raw)) else {
                return APIError.invalid("state must be in_sync or drifted", path: ["query", "state"])
            }
            filter = parsed
        }
        switch state.listReports(machineID: machineID, before: before, limit: limit, state: filter) {
        case .unknownMachine:
            return APIError.notFound(resource: "machine", id: machineID)
        case .page(let reports, let next):
            var w = JSONWriter(capacity: 128 + reports.count * 900)
            w.beginObject()
            w.key("data")
            w.beginArray()
            for report in reports { w.raw(Rendering.report(report)) }
            w.endArray()
            w.key("has_more"); w.bool(next != nil)
            w.key("next_cursor"); w.optionalString(next.map { RequestParsing.encodeCursor(prefix: "rc_", $0) })
            w.endObject()
            return APIError.json(.ok, w.output)
        }
    }

    private func createReport(_ request: Request, machineID: String, rawKey: String?) async -> V1Result {
        if let rawKey, !(1...64).contains(RequestParsing.length(rawKey)) {
            return plain(APIError.invalid("idempotency-key must be 1-64 characters", path: ["header", "idempotency-key"]))
        }
        guard let bytes = await RequestParsing.body(of: request, limit: 64 * 1024) else {
            return plain(APIError.response(
                .contentTooLarge, code: SimulatorErrorCode.payloadTooLarge, message: "Request body too large", path: ["body"]
            ))
        }
        var trigger: String?
        if !RequestParsing.isBlank(bytes) {
            let parsed: ParsedJSON
            do {
                parsed = try JSONParser.parse(bytes)
            } catch {
                return plain(APIError.response(
                    .badRequest, code: SimulatorErrorCode.malformedJSON, message: "Malformed JSON body: \(error)", path: ["body"]
                ))
            }
            guard case .object(let members) = parsed else {
                return plain(APIError.response(
                    .unprocessableContent, code: SimulatorErrorCode.unprocessable,
                    message: "Body must be a JSON object, got \(parsed.typeName)", path: ["body"]
                ))
            }
            for key in members.keys.sorted() where key != "trigger" {
                return plain(APIError.response(
                    .unprocessableContent, code: SimulatorErrorCode.unprocessable,
                    message: "Unrecognized key \"\(key)\" (additional properties are not allowed)", path: ["body", key]
                ))
            }
            if let value = members["trigger"] {
                guard case .string(let text) = value else {
                    return plain(APIError.response(
                        .unprocessableContent, code: SimulatorErrorCode.unprocessable,
                        message: "trigger must be a string, got \(value.typeName)", path: ["body", "trigger"]
                    ))
                }
                trigger = text
            }
        }

        let replayed: Bool
        let report: StoredReport
        switch state.createReport(machineID: machineID, idempotencyKey: rawKey, trigger: trigger) {
        case .unknownMachine:
            return plain(APIError.notFound(resource: "machine", id: machineID))
        case .conflict:
            return plain(APIError.response(
                .conflict, code: SimulatorErrorCode.idempotencyConflict,
                message: "Idempotency key was already used with a different request", path: ["header", "idempotency-key"]
            ))
        case .created(let created):
            report = created
            replayed = false
        case .replayed(let original):
            report = original
            replayed = true
        }
        var headers: HTTPFields = [
            .contentType: "application/json",
            .location: "/v1/machines/\(report.machineID)/drift_reports/\(report.id)",
            .eTag: report.etag,
        ]
        if replayed { headers[HeaderNames.idempotentReplayed] = "true" }
        let response = Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Rendering.report(report))))
        return V1Result(response: response, report: report, status: .created, headers: headers)
    }

    static func status(code: Int) -> HTTPResponse.Status {
        switch code {
        case 500: .internalServerError
        case 502: .badGateway
        case 503: .serviceUnavailable
        case 504: .gatewayTimeout
        case 429: .tooManyRequests
        case 408: .requestTimeout
        default: HTTPResponse.Status(code: code)
        }
    }
}

/// Wraps a `Response` so it can travel in a `Result` failure.
struct ResponseBox: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}
