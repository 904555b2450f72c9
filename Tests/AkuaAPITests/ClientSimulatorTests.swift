import AkuaSimulator
import DriftTestSupport
import DriftCore
import Foundation
import Synchronization
import Testing

@testable import AkuaAPI

/// The client over real loopback HTTP against the in-process simulator.
@Suite("AkuaClient against the simulator")
struct ClientSimulatorTests {
    @Test("create returns the report, its Location, and is not a replay")
    func create() async throws {
        try await SimulatorHarness.run { server, client in
            let created = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k-1", trigger: "manual")
            let report = created.report
            #expect(created.status == 201)
            #expect(!created.replayed)
            #expect(report.machineID == "mch_a")
            #expect(report.state == .drifted)
            #expect(!report.id.isEmpty && !report.etag.isEmpty)
            #expect(report.expiresAt - report.createdAt == 900)
            #expect(report.startedAt <= report.createdAt)
            #expect(!report.differingAttributes.isEmpty)
            #expect(report.providerSnapshot?.provider == "hcloud")
            #expect(created.location == "/v1/machines/mch_a/drift_reports/\(report.id)")

            let fetched = try await client.getDriftReport(machineID: "mch_a", reportID: report.id)
            #expect(fetched == report)
            #expect(server.control.stats().createsTotal == 1)
        }
    }

    @Test("the same key replays the same report; the simulator counts one report")
    func idempotentReplay() async throws {
        try await SimulatorHarness.run { server, client in
            let first = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "key-r", trigger: "scheduled")
            let second = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "key-r", trigger: "scheduled")
            #expect(second.report == first.report)
            #expect(second.replayed)
            let stats = server.control.stats()
            #expect(stats.reportsByKey["key-r"] == 1)
            #expect(stats.requestsByKey["key-r"] == 2)
            #expect(stats.createsTotal == 1)
        }
    }

    @Test("the same key with another trigger is a 409 idempotency conflict")
    func conflict() async throws {
        try await SimulatorHarness.run { server, client in
            _ = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "key-c", trigger: "scheduled")
            let error = await apiError {
                try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "key-c", trigger: "manual")
            }
            guard case .idempotencyConflict(let detail)? = error else {
                Issue.record("expected a conflict, got \(String(describing: error))")
                return
            }
            #expect(detail?.contains("Idempotency key") == true)
            #expect(error?.isRetryable == false)
            #expect(server.control.stats().conflictsTotal == 1)
        }
    }

    @Test("a wrong token is 401, and the token appears in no error text and no log line")
    func unauthorized() async throws {
        let logs = LogCapture()
        let secret = "sk_akua_WRONG_secret_value_42"
        try await SimulatorHarness.run(clientToken: secret, logs: logs) { _, client in
            var errors: [AkuaAPIError?] = []
            errors.append(await apiError {
                try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t")
            })
            errors.append(await apiError { try await client.listMachines() })
            errors.append(await apiError { try await client.getDriftReport(machineID: "mch_a", reportID: "r") })
            for error in errors {
                guard case .unauthorized(401, let detail)? = error else {
                    Issue.record("expected 401, got \(String(describing: error))")
                    continue
                }
                #expect(detail?.contains("Invalid API token") == true)
                #expect(!String(describing: error!).contains(secret))
                #expect(!String(reflecting: error!).contains(secret))
                #expect(!"\(error!)".contains("WRONG_secret"))
            }
            #expect(!String(describing: client.configuration).contains(secret))
            #expect(!String(reflecting: client.configuration).contains(secret))
            var dumped = ""
            dump(client.configuration, to: &dumped)
            #expect(!dumped.contains(secret))
        }
        #expect(!logs.lines.isEmpty)
        for line in logs.lines {
            #expect(!line.contains(secret), "\(line)")
        }
    }

    @Test("an unknown machine is 404 unknownMachine; an unknown report is notFound")
    func notFound() async throws {
        try await SimulatorHarness.run { _, client in
            let create = await apiError {
                try await client.createDriftReport(machineID: "mch_nope", idempotencyKey: "k", trigger: "t")
            }
            #expect(create == .unknownMachine("mch_nope"))
            #expect(await apiError { try await client.listDriftReports(machineID: "mch_nope") } == .unknownMachine("mch_nope"))
            #expect(await apiError { try await client.getDriftReport(machineID: "mch_nope", reportID: "dr_x") }
                == .unknownMachine("mch_nope"))
            let report = await apiError { try await client.getDriftReport(machineID: "mch_a", reportID: "dr_missing") }
            guard case .notFound? = report else {
                Issue.record("expected notFound, got \(String(describing: report))")
                return
            }
        }
    }

    @Test("a machine deleted at runtime answers unknownMachine")
    func deletedMachine() async throws {
        try await SimulatorHarness.run { server, client in
            _ = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k1", trigger: "t")
            try server.control.deleteMachine(id: "mch_a")
            #expect(await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k2", trigger: "t") }
                == .unknownMachine("mch_a"))
        }
    }

    @Test("400 and 422 from the server map to invalidRequest")
    func serverValidation() async throws {
        try await SimulatorHarness.run { _, client in
            // An over-long akua-context, sent by bypassing the client's own validation.
            let tooLong = "ws_" + String(repeating: "x", count: 60)
            let error400 = await apiError {
                try await client.sendCreate(machineID: "mch_a", idempotencyKey: "k", trigger: "t", context: tooLong)
            }
            guard case .invalidRequest(400, let detail)? = error400 else {
                Issue.record("expected 400, got \(String(describing: error400))")
                return
            }
            #expect(detail?.contains("akua-context") == true)

            // A body with a property the schema forbids.
            var raw = AkuaClient.RawRequest(
                endpoint: .createDriftReport(machineID: "mch_a"), body: Data(#"{"trigger":"t","extra":1}"#.utf8))
            raw.headers.append(("idempotency-key", "k-422"))
            let response = try await client.send(raw)
            #expect(response.status == 422)
            let error422 = await apiError { try response.expect(statuses: [201]) }
            guard case .invalidRequest(422, let detail422)? = error422 else {
                Issue.record("expected 422, got \(String(describing: error422))")
                return
            }
            #expect(detail422?.contains("extra") == true)

            // A cursor the server does not know.
            guard case .invalidRequest(400, _)? = await apiError({ try await client.listMachines(cursor: "bogus&x=1") }) else {
                Issue.record("expected 400 for a bad cursor")
                return
            }
        }
    }

    @Test("invalid input is rejected before anything is sent")
    func clientValidation() async throws {
        try await SimulatorHarness.run { server, client in
            let before = server.control.stats().requestsTotal
            let cases = await Self.localValidationErrors(client)
            for error in cases {
                guard case .invalidRequest(nil, let detail?)? = error else {
                    Issue.record("expected a local invalidRequest, got \(String(describing: error))")
                    continue
                }
                #expect(!detail.isEmpty)
            }
            // 54 characters (Unicode scalars) is still fine.
            let fine = String(repeating: "é", count: 54)
            #expect(await apiError { try await client.createDriftReport(machineID: fine, idempotencyKey: "k", trigger: "t") }
                == .unknownMachine(fine))
            #expect(server.control.stats().requestsTotal == before + 1)
        }
    }

    /// Every call here must be refused by the client itself.
    static func localValidationErrors(_ client: AkuaClient) async -> [AkuaAPIError?] {
        let long55 = String(repeating: "m", count: 55)
        var cases: [AkuaAPIError?] = []
        cases.append(await apiError { try await client.createDriftReport(machineID: "", idempotencyKey: "k", trigger: "t") })
        cases.append(await apiError {
            try await client.createDriftReport(machineID: long55, idempotencyKey: "k", trigger: "t")
        })
        cases.append(await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "", trigger: "t") })
        cases.append(await apiError {
            try await client.createDriftReport(
                machineID: "mch_a", idempotencyKey: String(repeating: "k", count: 65), trigger: "t")
        })
        cases.append(await apiError {
            try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "a\r\nb", trigger: "t")
        })
        cases.append(await apiError { try await client.getDriftReport(machineID: "mch_a", reportID: "") })
        cases.append(await apiError { try await client.listMachines(limit: 0) })
        cases.append(await apiError { try await client.listMachines(limit: 101) })
        cases.append(await apiError { try await client.listMachines(cursor: "") })
        cases.append(await apiError { try await client.listMachines(clusterID: "") })
        cases.append(await apiError { try await client.listDriftReports(machineID: "mch_a", limit: -1) })
        return cases
    }

    @Test("retryable server errors", arguments: [500, 502, 503, 504])
    func retryableStatuses(status: Int) async throws {
        let faults = SimulatorFaults(errorRate: 1, errorStatuses: [status])
        try await SimulatorHarness.run(faults: faults) { _, client in
            let error = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            guard case .retryable(status, nil, let detail)? = error else {
                Issue.record("expected retryable \(status), got \(String(describing: error))")
                return
            }
            #expect(detail?.contains("Simulated upstream failure") == true)
            #expect(error?.isRetryable == true)
        }
    }

    @Test("429 with Retry-After in seconds")
    func rateLimitSeconds() async throws {
        let faults = SimulatorFaults(rateLimitRate: 1, retryAfterSeconds: 7)
        try await SimulatorHarness.run(faults: faults) { _, client in
            let error = await apiError { try await client.listMachines() }
            #expect(error == .retryable(status: 429, retryAfter: .seconds(7), detail: "Rate limit exceeded (code 1029)"))
            #expect(error?.retryDelay(now: Date()) == 7)
        }
    }

    @Test("429 with Retry-After as an HTTP-date")
    func rateLimitDate() async throws {
        let faults = SimulatorFaults(rateLimitRate: 1, retryAfterSeconds: 120, retryAfterHTTPDate: true)
        try await SimulatorHarness.run(faults: faults) { _, client in
            let now = Int64(Date().timeIntervalSince1970)
            let error = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            guard case .retryable(429, .date(let unixSeconds)?, _)? = error else {
                Issue.record("expected a 429 with a date, got \(String(describing: error))")
                return
            }
            #expect(abs(unixSeconds - (now + 120)) <= 2)
            let delay = try #require(error?.retryDelay(nowUnixSeconds: now))
            #expect((118...122).contains(delay))
        }
    }

    @Test("a dropped connection is a retryable transport error")
    func dropped() async throws {
        try await SimulatorHarness.run(faults: SimulatorFaults(dropRate: 1)) { server, client in
            let error = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            guard case .transport(let message)? = error else {
                Issue.record("expected transport, got \(String(describing: error))")
                return
            }
            #expect(!message.isEmpty)
            #expect(error?.isRetryable == true)
            // The create happened server-side before the drop: retrying with the same key replays it.
            try server.control.setFaults(.none)
            let retry = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t")
            #expect(retry.replayed)
            #expect(server.control.stats().reportsByKey["k"] == 1)
        }
    }

    @Test("a hanging server times out within the configured timeout")
    func hang() async throws {
        try await SimulatorHarness.run(faults: SimulatorFaults(hangRate: 1), timeout: .milliseconds(400)) { _, client in
            let clock = ContinuousClock()
            let started = clock.now
            let error = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            let elapsed = clock.now - started
            #expect(error == .timeout)
            #expect(elapsed >= .milliseconds(350))
            #expect(elapsed < .seconds(10), "took \(elapsed)")
        }
    }

    @Test("cancelling the calling task ends a hanging request as cancelled")
    func cancellation() async throws {
        try await SimulatorHarness.run(faults: SimulatorFaults(hangRate: 1), timeout: .seconds(30)) { _, client in
            let task = Task { await apiError { try await client.listMachines() } }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let error = await task.value
            #expect(error == .cancelled)
        }
    }

    @Test("the daemon's callback create, cancelled through its handle, completes once, as cancelled")
    func callbackCancellation() async throws {
        try await SimulatorHarness.run(faults: SimulatorFaults(hangRate: 1), timeout: .seconds(30)) { _, client in
            let results = Mutex<[Result<CreatedDriftReport, AkuaAPIError>]>([])
            let error = await withCheckedContinuation { (continuation: CheckedContinuation<AkuaAPIError?, Never>) in
                let cancel = client.createDriftReport(machineID: "mch_a", idempotencyKey: "k-cancel", trigger: "schedule") { result in
                    results.withLock { $0.append(result) }
                    if case .failure(let error) = result { continuation.resume(returning: error) } else { continuation.resume(returning: nil) }
                }
                cancel()
            }
            #expect(error == .cancelled)
            #expect(results.withLock { $0.count } == 1)
        }
    }

    @Test("a cut, garbled body is a retryable bad response; a missing or unknown state is an invalid report",
          arguments: [
        (SimulatorFaults(malformedRate: 1), "malformed JSON", true),
        (SimulatorFaults(missingStateRate: 1), "missing required field state", false),
        (SimulatorFaults(unknownStateRate: 1), #"invalid state "exploded""#, false),
    ])
    func badBodies(faults: SimulatorFaults, reason: String, transportDamage: Bool) async throws {
        try await SimulatorHarness.run(faults: faults) { _, client in
            let error = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            let message: String
            switch error {
            case .badResponse(let text)? where transportDamage: message = text
            case .invalidReport(let text)? where !transportDamage: message = text
            default:
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(message.hasPrefix(reason), "\(message)")
            #expect("\(error!)".contains(reason))
            #expect(error?.isRetryable == transportDamage)
            #expect(error?.isSchemaViolation == !transportDamage)
        }
    }

    @Test("an oversized body fails with oversized")
    func oversized() async throws {
        try await SimulatorHarness.run(faults: SimulatorFaults(oversizedRate: 1)) { _, client in
            let error = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            #expect(error == .oversized(limit: 1 << 20))
            #expect(error?.isSchemaViolation == true)
        }
        try await SimulatorHarness.run(maxResponseBytes: 200) { _, client in
            let error = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            #expect(error == .oversized(limit: 200))
        }
    }

    @Test("a single machine by id")
    func getMachine() async throws {
        try await SimulatorHarness.run(machines: [SimulatedMachine(id: "mch_a", name: "web-1")]) { _, client in
            let machine = try await client.getMachine(machineID: "mch_a")
            #expect(machine.id == "mch_a")
            #expect(machine.name == "web-1")
            #expect(machine.state == .active)
            #expect(machine.providerResource.floatingIP != nil)
            #expect(await apiError { try await client.getMachine(machineID: "mch_zz") } == .unknownMachine("mch_zz"))
            #expect(await apiError { try await client.getMachine(machineID: "mch_a/drift_reports") }
                == .unknownMachine("mch_a/drift_reports"))
        }
    }

    @Test("odd machine ids are percent-encoded and answered by exact id", arguments: [
        "a/b", "a?b", "a#b", "100%", "a b", "é💥", "..", ".", "a/../mch_a", "mch_a/", "mch_a?x=1", "%2F", "a+b&c=d",
    ])
    func oddUnknownIDs(id: String) async throws {
        try await SimulatorHarness.run { _, client in
            #expect(await apiError { try await client.createDriftReport(machineID: id, idempotencyKey: "k", trigger: "t") }
                == .unknownMachine(id))
            #expect(await apiError { try await client.listDriftReports(machineID: id) } == .unknownMachine(id))
            #expect(await apiError { try await client.getDriftReport(machineID: id, reportID: "r/1?#") } == .unknownMachine(id))
        }
    }

    @Test("a machine whose id needs encoding works end to end")
    func oddKnownID() async throws {
        let id = "mch %é💥+&=;~"
        try await SimulatorHarness.run(machines: [SimulatedMachine(id: id, scenario: .fixed(.inSync))]) { server, client in
            let created = try await client.createDriftReport(machineID: id, idempotencyKey: "k", trigger: "t")
            #expect(created.report.machineID == id)
            #expect(created.report.state == .inSync)
            #expect(try await client.getDriftReport(machineID: id, reportID: created.report.id) == created.report)
            #expect(try await client.listDriftReports(machineID: id).data.map(\.id) == [created.report.id])
            #expect(server.control.stats().reportsByMachine[id] == 1)
        }
    }

    @Test("an unreachable server is a fast transport error")
    func connectionRefused() async throws {
        // Bind a port, then close it, so nothing listens there.
        let server = try ScriptedHTTPServer { _ in .close }
        let baseURL = server.baseURL
        server.stop()
        try await SimulatorHarness.withClient(baseURL: baseURL, timeout: .seconds(5)) { client in
            let clock = ContinuousClock()
            let started = clock.now
            let error = await apiError { try await client.listMachines() }
            guard case .transport(let message)? = error else {
                Issue.record("expected transport, got \(String(describing: error))")
                return
            }
            #expect(message.lowercased().contains("refused"), "\(message)")
            #expect(clock.now - started < .seconds(10), "a refused connection must fail fast, not be retried")
        }
    }
}
