import Foundation
import Testing

@testable import AkuaAPI

/// `AkuaAPIError.classify` as a pure function of (status, headers, body, endpoint).
@Suite("Error classification")
struct ErrorClassificationTests {
    static let create = AkuaEndpoint.createDriftReport(machineID: "mch_a")
    static let getReport = AkuaEndpoint.getDriftReport(machineID: "mch_a", reportID: "dr_1")

    static func apiError(_ message: String, code: Int = 7002, path: [String]? = nil, resource: String? = nil) -> Data {
        var entry: [String: Any] = ["code": code, "message": message]
        if let path { entry["path"] = path }
        if let resource { entry["metadata"] = ["resource": resource, "id": "x"] }
        return try! JSONSerialization.data(withJSONObject: ["success": false, "errors": [entry], "result": [:]])
    }

    func classify(
        _ status: Int, _ headers: [(name: String, value: String)] = [], _ body: Data = Data(),
        _ endpoint: AkuaEndpoint = ErrorClassificationTests.create, secrets: [String] = []
    ) -> AkuaAPIError {
        AkuaAPIError.classify(status: status, headers: headers, body: body, endpoint: endpoint, secrets: secrets)
    }

    @Test("retryable statuses", arguments: [408, 425, 429, 500, 502, 503, 504, 599])
    func retryable(status: Int) {
        let error = classify(status)
        #expect(error == .retryable(status: status, retryAfter: nil, detail: nil))
        #expect(error.isRetryable)
    }

    @Test("Retry-After is read case-insensitively, seconds or HTTP-date")
    func retryAfter() {
        #expect(classify(429, [("Retry-After", "7")]) == .retryable(status: 429, retryAfter: .seconds(7), detail: nil))
        #expect(classify(503, [("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")])
            == .retryable(status: 503, retryAfter: .date(unixSeconds: 784_111_777), detail: nil))
        #expect(classify(503, [("retry-after", "soon")]) == .retryable(status: 503, retryAfter: nil, detail: nil))
    }

    @Test("the detail is the first error's message with its code")
    func detail() {
        let error = classify(401, [], Self.apiError("Invalid API token", code: 1001))
        #expect(error == .unauthorized(status: 401, detail: "Invalid API token (code 1001)"))
        #expect(!error.isRetryable)
        #expect(classify(403) == .unauthorized(status: 403, detail: nil))
    }

    @Test("details are sanitized, truncated and redacted")
    func sanitizedDetail() {
        let message = "bad\ntoken sk_live_SECRET\u{202E}\u{0}\t here " + String(repeating: "x", count: 500)
        let error = classify(400, [], Self.apiError(message), secrets: ["sk_live_SECRET"])
        guard case .invalidRequest(400, let detail?) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(!detail.contains("SECRET"))
        #expect(detail.hasPrefix("bad token [redacted] here xxx"))
        #expect(detail.count <= 220)
        #expect(!detail.contains(where: { $0.isNewline }))
        #expect(detail.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0 != "\u{202E}" })
        #expect(!"\(error)".contains("SECRET"))
    }

    @Test("400 and 422 are invalid requests")
    func invalid() {
        #expect(classify(400) == .invalidRequest(status: 400, detail: nil))
        #expect(classify(422, [], Self.apiError("Unrecognized key", code: 1004))
            == .invalidRequest(status: 422, detail: "Unrecognized key (code 1004)"))
    }

    @Test("404 meaning depends on the endpoint and the body")
    func notFound() {
        let body = Self.apiError("Resource not found")
        #expect(classify(404, [], body) == .unknownMachine("mch_a"))
        #expect(classify(404, [], body, .listDriftReports(machineID: "m/1")) == .unknownMachine("m/1"))
        // Not an ApiErrorResponse: the endpoint itself is missing.
        #expect(classify(404, [], Data("<html>nope</html>".utf8)) == .unsupported(status: 404))
        #expect(classify(404, [], Data()) == .unsupported(status: 404))
        #expect(classify(404, [], Data(#"{"message":"Not Found"}"#.utf8)) == .unsupported(status: 404))
        #expect(classify(404, [], Data(#"{"success":true,"errors":[],"result":{}}"#.utf8)) == .unsupported(status: 404))
        // Any ApiErrorResponse is only a candidate, whatever its free-form metadata says (the simulator's
        // `resource` included): the daemon confirms with GET /machines/{id}.
        #expect(classify(404, [], Self.apiError("Resource not found", resource: "route")) == .unknownMachine("mch_a"))
        #expect(classify(404, [], Data(#"{"success":false,"errors":[{"code":7002,"message":"x"}],"result":{}}"#.utf8))
            == .unknownMachine("mch_a"))
        // A report id: the report, unless the body blames the machine.
        #expect(classify(404, [], body, Self.getReport) == .notFound(detail: "Resource not found (code 7002)"))
        #expect(classify(404, [], Self.apiError("Resource not found", resource: "machine"), Self.getReport)
            == .unknownMachine("mch_a"))
        #expect(classify(404, [], Self.apiError("Resource not found", resource: "drift_report"), Self.getReport)
            == .notFound(detail: "Resource not found (code 7002)"))
        #expect(classify(404, [], Self.apiError("gone", path: ["path", "id"]), Self.getReport) == .unknownMachine("mch_a"))
        #expect(classify(404, [], Self.apiError("gone", path: ["path", "report_id"]), Self.getReport)
            == .notFound(detail: "gone (code 7002)"))
        #expect(classify(404, [], Self.apiError("Machine not found"), Self.getReport) == .unknownMachine("mch_a"))
        #expect(classify(404, [], Data(), Self.getReport) == .unsupported(status: 404))
        #expect(classify(404, [], body, .listMachines) == .notFound(detail: "Resource not found (code 7002)"))
        #expect(classify(404, [], Data(), .listMachines) == .unexpectedStatus(404))
        #expect(classify(404, [], body, .getMachine(machineID: "mch_b")) == .unknownMachine("mch_b"))
        #expect(classify(404, [], Data(), .getMachine(machineID: "mch_b")) == .unexpectedStatus(404))
        #expect(classify(405, [], Data(), .getMachine(machineID: "mch_b")) == .unexpectedStatus(405))
    }

    @Test("405 and 501 mean unsupported drift reports")
    func unsupported() {
        #expect(classify(405) == .unsupported(status: 405))
        #expect(classify(501, [], Data(), Self.getReport) == .unsupported(status: 501))
        #expect(classify(405, [], Data(), .listMachines) == .unexpectedStatus(405))
        #expect("\(classify(501))" == "drift reports not supported by this API (HTTP 501)")
    }

    @Test("409 on create is an idempotency conflict")
    func conflict() {
        #expect(classify(409, [], Self.apiError("Idempotency key was already used", code: 7009))
            == .idempotencyConflict(detail: "Idempotency key was already used (code 7009)"))
        #expect(classify(409, [], Data(), .listMachines) == .unexpectedStatus(409))
    }

    @Test("anything else is an unexpected status", arguments: [301, 302, 304, 410, 413, 415, 418, 451, 600, 0])
    func unexpected(status: Int) {
        #expect(classify(status) == .unexpectedStatus(status))
    }

    @Test("descriptions are single lines and name the cause")
    func descriptions() {
        let cases: [(AkuaAPIError, String)] = [
            (.timeout, "did not answer in time"),
            (.transport("connection refused"), "cannot reach the Akua API: connection refused"),
            (.unknownMachine("mch_\nx"), "does not know machine \"mch_ x\""),
            (.oversized(limit: 1024), "larger than 1024 bytes"),
            (.badResponse("malformed JSON"), "bad response from the Akua API: malformed JSON"),
            (.invalidReport("missing required field state"), "invalid report: missing required field state"),
            (.invalidRequest(status: nil, detail: "machine id must be 1-54 characters, got 0"), "not sent"),
            (.retryable(status: 429, retryAfter: .seconds(3), detail: nil), "retry after 3s"),
            (.idempotencyConflict(detail: nil), "409"),
            (.unexpectedStatus(302), "302"),
        ]
        for (error, fragment) in cases {
            let text = "\(error)"
            #expect(text.contains(fragment), "\(text)")
            #expect(!text.contains("\n"))
        }
    }

    @Test("retryability: transport damage is retried with the key, a schema violation is not")
    func retryability() {
        for error: AkuaAPIError in [
            .transport("x"), .timeout, .retryable(status: 503, retryAfter: nil, detail: nil), .badResponse("cut"),
        ] {
            #expect(error.isRetryable, "\(error)")
            #expect(!error.isSchemaViolation, "\(error)")
        }
        for error: AkuaAPIError in [.invalidReport("x"), .oversized(limit: 1)] {
            #expect(!error.isRetryable, "\(error)")
            #expect(error.isSchemaViolation, "\(error)")
        }
        for error: AkuaAPIError in [
            .cancelled, .configuration("x"), .unauthorized(status: 401, detail: nil), .unknownMachine("m"),
            .notFound(detail: nil), .idempotencyConflict(detail: nil), .invalidRequest(status: 400, detail: nil),
            .unsupported(status: 404), .unexpectedStatus(302),
        ] {
            #expect(!error.isRetryable, "\(error)")
            #expect(!error.isSchemaViolation, "\(error)")
        }
    }

    @Test("Retry-After in milliseconds saturates instead of overflowing")
    func retryDelayMilliseconds() {
        let huge = AkuaAPIError.retryable(status: 429, retryAfter: .seconds(Int64.max), detail: nil)
        #expect(huge.retryDelayMilliseconds(nowMs: 0) == Int64.max)
        let date = AkuaAPIError.retryable(status: 503, retryAfter: .date(unixSeconds: 1_000), detail: nil)
        #expect(date.retryDelayMilliseconds(nowMs: 990_500) == 10_000)
        #expect(date.retryDelayMilliseconds(nowMs: Int64.min) == Int64.max)
        #expect(AkuaAPIError.timeout.retryDelayMilliseconds(nowMs: 0) == nil)
    }
}
