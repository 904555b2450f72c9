import Hummingbird
import NIOCore

// MARK: - /_sim admin endpoints (no Akua auth, loopback peers only)

extension SimulatorResponder {
    func admin(_ request: Request, context: Context) async -> Response {
        guard Self.isLoopback(context.channel.remoteAddress) else {
            return APIError.response(.forbidden, code: SimulatorErrorCode.forbidden, message: "Admin endpoints are loopback only")
        }
        let segments = RequestParsing.segments(of: request.uri.path)
        let method = request.method
        switch (method, segments) {
        case (.get, ["stats"]):
            var w = JSONWriter(capacity: 256)
            state.stats().writeJSON(to: &w)
            return APIError.json(.ok, w.output)

        case (.get, ["faults"]):
            return faultsResponse()

        case (.put, ["faults"]):
            let body: ParsedJSON
            switch await Self.jsonBody(request) {
            case .success(let parsed): body = parsed
            case .failure(let box): return box.response
            }
            do {
                let faults = try SimulatorFaults.parse(body, context: "faults", base: .none)
                state.setFaults(faults)
            } catch {
                return APIError.invalid(error.message, path: ["body"])
            }
            return faultsResponse()

        case (.delete, ["faults"]):
            state.setFaults(.none)
            return Response(status: .noContent)

        case (.put, ["token"]):
            switch await Self.jsonBody(request) {
            case .failure(let box): return box.response
            case .success(let body):
                guard case .object(let members) = body, case .string(let token)? = members["token"], !token.isEmpty else {
                    return APIError.invalid("body must be {\"token\": \"non-empty string\"}", path: ["body", "token"])
                }
                state.setToken(token)
                return Response(status: .noContent)
            }

        case (.put, ["ttl"]):
            switch await Self.jsonBody(request) {
            case .failure(let box): return box.response
            case .success(let body):
                guard case .object(let members) = body, case .number(_, let ttl?)? = members["ttl_seconds"], ttl > 0 else {
                    return APIError.invalid("body must be {\"ttl_seconds\": positive integer}", path: ["body", "ttl_seconds"])
                }
                state.setTTL(seconds: ttl)
                return Response(status: .noContent)
            }

        case (.put, ["clock_skew"]):
            switch await Self.jsonBody(request) {
            case .failure(let box): return box.response
            case .success(let body):
                guard case .object(let members) = body, case .number(_, let seconds?)? = members["seconds"],
                    abs(seconds) <= SimulatorOptions.maxClockSkewSeconds
                else {
                    return APIError.invalid("body must be {\"seconds\": integer within ±10 years}", path: ["body", "seconds"])
                }
                state.setClockSkew(seconds: seconds)
                return Response(status: .noContent)
            }

        case (.put, ["drift_ops_status"]):
            switch await Self.jsonBody(request) {
            case .failure(let box): return box.response
            case .success(let body):
                guard case .object(let members) = body, let value = members["status"] else {
                    return APIError.invalid("body must be {\"status\": 404 | 405 | 501 | null}", path: ["body", "status"])
                }
                if value == .null {
                    state.setDriftOpsStatus(nil)
                    return Response(status: .noContent)
                }
                guard case .number(_, let status?) = value, SimulatorOptions.driftOpsStatuses.contains(Int(status)) else {
                    return APIError.invalid("body must be {\"status\": 404 | 405 | 501 | null}", path: ["body", "status"])
                }
                state.setDriftOpsStatus(Int(status))
                return Response(status: .noContent)
            }

        case (.put, ["context"]):
            switch await Self.jsonBody(request) {
            case .failure(let box): return box.response
            case .success(let body):
                guard case .object(let members) = body, let value = members["context"] else {
                    return APIError.invalid("body must be {\"context\": \"ws_...\" | null}", path: ["body", "context"])
                }
                if value == .null {
                    state.setRequiredContext(nil)
                    return Response(status: .noContent)
                }
                guard case .string(let context) = value, (1...53).contains(context.count) else {
                    return APIError.invalid("context must be 1-53 characters", path: ["body", "context"])
                }
                state.setRequiredContext(context)
                return Response(status: .noContent)
            }

        case (.post, ["machines"]):
            switch await Self.jsonBody(request) {
            case .failure(let box): return box.response
            case .success(let body):
                do {
                    let machine = try SimulatorOptions.parseMachine(body, context: "body")
                    try state.addMachine(machine)
                    guard let snapshot = state.machine(id: machine.id) else {
                        return APIError.notFound(resource: "machine", id: machine.id)
                    }
                    var w = JSONWriter()
                    Rendering.machine(snapshot, full: true, into: &w)
                    return APIError.json(.created, w.output, headers: [.location: "/v1/machines/\(machine.id)"])
                } catch let error as SimulatorConfigError {
                    return APIError.invalid(error.message, path: ["body"])
                } catch let error as SimulatorState.AdminError {
                    return Self.response(for: error)
                } catch {
                    return APIError.invalid("\(error)", path: ["body"])
                }
            }

        case (.delete, let parts) where parts.count == 2 && parts[0] == "machines":
            do {
                try state.deleteMachine(id: parts[1])
                return Response(status: .noContent)
            } catch {
                return Self.response(for: error)
            }

        case (.put, let parts) where parts.count == 3 && parts[0] == "machines" && parts[2] == "state":
            switch await Self.jsonBody(request) {
            case .failure(let box): return box.response
            case .success(let body):
                guard case .object(let members) = body, case .string(let raw)? = members["state"],
                    let newState = ReportStateName(rawValue: raw)
                else {
                    return APIError.invalid("body must be {\"state\": \"in_sync\" | \"drifted\"}", path: ["body", "state"])
                }
                do {
                    try state.setState(newState, machineID: parts[1])
                    return APIError.json(.ok, "{\"id\":\(Self.quoted(parts[1])),\"state\":\"\(newState.rawValue)\"}")
                } catch {
                    return Self.response(for: error)
                }
            }

        case (.put, let parts) where parts.count == 3 && parts[0] == "machines" && parts[2] == "attributes":
            switch await Self.jsonBody(request) {
            case .failure(let box): return box.response
            case .success(let body):
                let invalid = APIError.invalid(
                    "body must be {\"attributes\": [names of image, cpu, memory_mb, labels, firewall] | null}", path: ["body", "attributes"])
                guard case .object(let members) = body else { return invalid }
                let names: [String]?
                switch members["attributes"] {
                case .null?: names = nil
                case .array(let items)?:
                    let strings = items.compactMap { item -> String? in if case .string(let name) = item { name } else { nil } }
                    guard strings.count == items.count, strings.allSatisfy(Rendering.driftAttributes.contains) else { return invalid }
                    names = strings
                default: return invalid
                }
                do {
                    try state.setDriftAttributes(names, machineID: parts[1])
                    return Response(status: .noContent)
                } catch {
                    return Self.response(for: error)
                }
            }

        default:
            return APIError.notFound(resource: "route", id: request.uri.path)
        }
    }

    private func faultsResponse() -> Response {
        var w = JSONWriter(capacity: 400)
        state.currentFaults().writeJSON(to: &w)
        return APIError.json(.ok, w.output)
    }

    static func response(for error: SimulatorState.AdminError) -> Response {
        switch error {
        case .unknownMachine(let id):
            APIError.notFound(resource: "machine", id: id)
        case .duplicateMachine(let id):
            APIError.response(.conflict, code: SimulatorErrorCode.idempotencyConflict, message: "Machine \(id) already exists", path: ["body", "id"])
        case .invalid(let message):
            APIError.invalid(message, path: ["body"])
        }
    }

    static func quoted(_ text: String) -> String {
        var w = JSONWriter(capacity: text.utf8.count + 2)
        w.string(text)
        return w.output
    }

    static func jsonBody(_ request: Request) async -> Result<ParsedJSON, ResponseBox> {
        guard let bytes = await RequestParsing.body(of: request, limit: 1 << 20) else {
            return .failure(ResponseBox(APIError.response(
                .contentTooLarge, code: SimulatorErrorCode.payloadTooLarge, message: "Request body too large", path: ["body"]
            )))
        }
        do {
            return .success(try JSONParser.parse(bytes))
        } catch {
            return .failure(ResponseBox(APIError.response(
                .badRequest, code: SimulatorErrorCode.malformedJSON, message: "Malformed JSON body: \(error)", path: ["body"]
            )))
        }
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        switch address {
        case .v4:
            return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6:
            guard let ip = address.ipAddress else { return false }
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket:
            return true
        }
    }
}
