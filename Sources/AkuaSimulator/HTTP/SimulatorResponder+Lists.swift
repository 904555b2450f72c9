import Hummingbird

// MARK: - /v1 list endpoints (machines and drift reports, cursor-paginated)

extension SimulatorResponder {
    /// Parses `limit` (1-100, default 50); nil result means the response to send.
    private func parseLimit(_ request: Request) -> Result<Int, ResponseBox> {
        guard let raw = request.uri.queryParameters["limit"] else { return .success(50) }
        guard let limit = Int(raw), (1...100).contains(limit) else {
            return .failure(ResponseBox(APIError.invalid("limit must be an integer between 1 and 100", path: ["query", "limit"])))
        }
        return .success(limit)
    }

    func listMachines(_ request: Request) -> Response {
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

    func listReports(_ request: Request, machineID: String) -> Response {
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
}
