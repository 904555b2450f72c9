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

        /// The three drift report operations (upstream: "scaffold-only"), which `drift_ops_status` disables.
        var isDriftReportOperation: Bool {
            switch self {
            case .listReports, .createReport, .getReport: true
            default: false
            }
        }
    }

    /// A processed `/v1` request: a finished response, or a report whose body `v1` renders (with the
    /// request's or the report's body fault).
    struct V1Result {
        var response: Response
        var report: StoredReport?
        var status: HTTPResponse.Status
        var headers: HTTPFields

        /// A report answer; the body is rendered later.
        init(report: StoredReport, status: HTTPResponse.Status, headers: HTTPFields) {
            self.response = Response(status: status, headers: headers)
            self.report = report
            self.status = status
            self.headers = headers
        }

        init(_ response: Response) {
            self.response = response
            self.report = nil
            self.status = response.status
            self.headers = response.headers
        }
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

        let result = await process(route, request: request, rawKey: rawKey, plan: plan)

        switch plan.outcome {
        case .drop:
            try? await context.channel.close().get()
            throw ConnectionDroppedOnPurpose()
        case .hang:
            await hangs.wait(closeFuture: context.channel.closeFuture)
            try? await context.channel.close().get()
            throw ConnectionDroppedOnPurpose()
        default:
            break
        }
        guard let report = result.report else { return result.response }
        // A report created under sticky_bad_body keeps its own fault for good (clean ones stay clean while
        // sticky is on); otherwise this request's draw applies to this answer only.
        let fault = report.bodyFault ?? (plan.stickyBadBody ? nil : plan.outcome.bodyFault)
        if let fault { state.recordFault(kind: fault.kind) }
        let body = ByteBuffer(string: Rendering.report(report, fault: fault))
        return Response(status: result.status, headers: result.headers, body: .init(byteBuffer: body))
    }

    private func plain(_ response: Response) -> V1Result {
        V1Result(response)
    }

    private func process(_ route: V1Route, request: Request, rawKey: String?, plan: SimulatorState.RequestPlan) async -> V1Result {
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
        if let required = plan.requiredContext, request.headers[HeaderNames.akuaContext] != required {
            return plain(APIError.response(
                .forbidden, code: SimulatorErrorCode.forbidden,
                message: "The token has no access to this workspace context", path: ["header", "akua-context"]
            ))
        }
        if let id = route.machineID, !(1...54).contains(RequestParsing.length(id)) {
            return plain(APIError.invalid("id must be 1-54 characters", path: ["path", "id"]))
        }
        if let status = plan.driftOpsStatus, route.isDriftReportOperation {
            return plain(APIError.operationUnavailable(status: status))
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
            return await createReport(request, machineID: id, rawKey: rawKey, plan: plan)
        case .getReport(let id, let reportID):
            switch state.report(machineID: id, reportID: reportID) {
            case .unknownMachine:
                return plain(APIError.notFound(resource: "machine", id: id))
            case .unknownReport:
                return plain(APIError.notFound(resource: "drift_report", id: reportID))
            case .found(let report):
                return V1Result(report: report, status: .ok, headers: [.contentType: "application/json", .eTag: report.etag])
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

    private func createReport(
        _ request: Request, machineID: String, rawKey: String?, plan: SimulatorState.RequestPlan
    ) async -> V1Result {
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
            // The contract's only request media type: a body sent as anything else is refused (415).
            if plan.strictContentType, !RequestParsing.isJSONMediaType(request.headers[.contentType]) {
                let sent = request.headers[.contentType].map { "\"\($0)\"" } ?? "none"
                return plain(APIError.response(
                    .unsupportedMediaType, code: SimulatorErrorCode.unsupportedMediaType,
                    message: "Content-Type must be application/json, got \(sent)", path: ["header", "content-type"]
                ))
            }
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
        let stickyFault = plan.stickyBadBody ? plan.outcome.bodyFault : nil
        switch state.createReport(
            machineID: machineID, idempotencyKey: rawKey, trigger: trigger, bodyFault: stickyFault, oddFields: plan.oddFields
        ) {
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
        var headers: HTTPFields = [.contentType: "application/json", .eTag: report.etag]
        // `Location` is optional in practice: odd reports leave it out.
        if !report.oddFields { headers[.location] = "/v1/machines/\(report.machineID)/drift_reports/\(report.id)" }
        if replayed { headers[HeaderNames.idempotentReplayed] = "true" }
        return V1Result(report: report, status: .created, headers: headers)
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
