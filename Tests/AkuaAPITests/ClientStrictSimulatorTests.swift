import AkuaSimulator
import DriftCore
import Foundation
import Testing

@testable import AkuaAPI

/// The client against the simulator's strict options: the server's clock, 404 confirmation through
/// `GET /machines/{id}`, sticky bad bodies, odd reports, `akua-context` and the request media type.
@Suite("AkuaClient against the strict simulator")
struct ClientStrictSimulatorTests {
    @Test("serverDateMs is the Date header: the simulator's clock, skewed like the report's timestamps")
    func serverDate() async throws {
        let fixed: @Sendable () -> Double = { 1_800_000_000.5 }
        try await SimulatorHarness.run(configure: { $0.now = fixed; $0.clockSkewSeconds = -3600 }) { _, client in
            let created = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t")
            #expect(created.serverDateMs == Int64(1_799_996_400_000))
            #expect(created.report.createdAt == 1_800_000_000 - 3600)
            #expect(created.report.expiresAt == 1_800_000_000 - 3600 + 900)
        }
        try await SimulatorHarness.run { _, client in
            let before = Int64(Date().timeIntervalSince1970) * 1000
            let created = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t")
            let after = Int64(Date().timeIntervalSince1970) * 1000
            let serverDate = try #require(created.serverDateMs)
            #expect((before...after).contains(serverDate))
        }
    }

    @Test("Date header parsing: IMF-fixdate and the obsolete forms; anything else is nil")
    func dateParsing() {
        #expect(AkuaClient.serverDateMs("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777_000)
        #expect(AkuaClient.serverDateMs("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777_000)
        #expect(AkuaClient.serverDateMs("Sun Nov  6 08:49:37 1994") == 784_111_777_000)
        #expect(AkuaClient.serverDateMs("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799_000)
        for bad in ["", "12345", "yesterday", "Sun, 06 Nov 1994 08:49:37 CET", "Sun, 32 Nov 1994 08:49:37 GMT"] {
            #expect(AkuaClient.serverDateMs(bad) == nil, "\(bad)")
        }
    }

    @Test("getMachine: 200 decodes the Machine, 404 is unknownMachine; getMachine(id:) is the same call")
    func getMachine() async throws {
        try await SimulatorHarness.run(machines: [SimulatedMachine(id: "mch_a", name: "web-1")]) { server, client in
            let machine = try await client.getMachine(id: "mch_a")
            #expect(machine == (try await client.getMachine(machineID: "mch_a")))
            #expect(machine.id == "mch_a" && machine.name == "web-1")
            #expect(await apiError { try await client.getMachine(id: "mch_gone") } == .unknownMachine("mch_gone"))
            try server.control.deleteMachine(id: "mch_a")
            #expect(await apiError { try await client.getMachine(id: "mch_a") } == .unknownMachine("mch_a"))
        }
    }

    @Test("a 404 on create is a candidate; GET /machines/{id} tells a gone machine from an unavailable operation")
    func confirmation() async throws {
        try await SimulatorHarness.run(configure: { $0.driftOpsStatus = 404 }) { server, client in
            // Operation unavailable: the create's 404 looks like an unknown machine, the machine exists.
            let create = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            #expect(create == .unknownMachine("mch_a"))
            #expect(try await client.getMachine(machineID: "mch_a").id == "mch_a")
            // Machine gone: both say 404.
            try server.control.setDriftOpsStatus(nil)
            try server.control.deleteMachine(id: "mch_a")
            #expect(await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k2", trigger: "t") }
                == .unknownMachine("mch_a"))
            #expect(await apiError { try await client.getMachine(machineID: "mch_a") } == .unknownMachine("mch_a"))
        }
    }

    @Test("405 and 501 on the drift report operations are unsupported", arguments: [405, 501])
    func unsupported(status: Int) async throws {
        try await SimulatorHarness.run(configure: { $0.driftOpsStatus = status }) { _, client in
            #expect(await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
                == .unsupported(status: status))
            #expect(await apiError { try await client.listDriftReports(machineID: "mch_a") } == .unsupported(status: status))
            let machine = try await client.getMachine(machineID: "mch_a")
            #expect(machine.id == "mch_a")
        }
    }

    @Test("a sticky schema violation comes back identical on a replay with the same key; a cut body does not stick")
    func stickyBadBody() async throws {
        let sticky = SimulatorFaults(unknownStateRate: 1, stickyBadBody: true)
        try await SimulatorHarness.run(faults: sticky) { server, client in
            let first = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            guard case .invalidReport? = first else {
                Issue.record("expected invalidReport, got \(String(describing: first))")
                return
            }
            #expect(first?.isRetryable == false)
            try server.control.setFaults(.none)
            let replay = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            #expect(replay == first)
            #expect(server.control.stats().reportsByKey["k"] == 1)
        }
        try await SimulatorHarness.run(faults: SimulatorFaults(malformedRate: 1)) { server, client in
            let first = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            #expect(first?.isRetryable == true)
            try server.control.setFaults(.none)
            let retry = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t")
            #expect(retry.replayed)
        }
    }

    @Test("odd reports (optional fields omitted or null, unknown fields) decode; big integers stay exact")
    func oddReports() async throws {
        let machines = [SimulatedMachine(id: "mch_a", scenario: .fixed(.drifted))]
        // A fixed clock fixes the report ids, hence which optional-field forms the 24 reports take.
        let fixed: @Sendable () -> Double = { 1_800_000_000 }
        try await SimulatorHarness.run(
            machines: machines, faults: SimulatorFaults(oddFieldsRate: 1), configure: { $0.now = fixed }
        ) { _, client in
            var withoutDelta = 0
            var withSnapshot = 0
            for index in 0..<24 {
                let created = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "o\(index)", trigger: "t")
                #expect(created.location == nil)
                #expect(created.report.state == .drifted)
                if created.report.delta == nil { withoutDelta += 1 }
                guard let snapshot = created.report.providerSnapshot else { continue }
                withSnapshot += 1
                #expect(snapshot.rawAttrs["volume_id"] == .integer(9_007_199_254_740_993))
                #expect(snapshot.rawAttrs["serial"] == .unsignedInteger(UInt64.max))
                let encoded = String(decoding: try JSONEncoder().encode(created.report), as: UTF8.self)
                #expect(encoded.contains("9007199254740993") && encoded.contains("18446744073709551615"))
                #expect(try await client.getDriftReport(machineID: "mch_a", reportID: created.report.id) == created.report)
            }
            #expect(withoutDelta > 0 && withoutDelta < 24)
            #expect(withSnapshot > 0 && withSnapshot < 24)
            #expect(try await client.listDriftReports(machineID: "mch_a", limit: 100).data.count == 24)
        }
    }

    @Test("akua-context: the configured context passes, a wrong one is a 403 unauthorized")
    func context() async throws {
        try await SimulatorHarness.run(context: "ws_j572abc", configure: { $0.requiredContext = "ws_j572abc" }) { _, client in
            let created = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t")
            #expect(created.status == 201)
        }
        try await SimulatorHarness.run(context: "ws_other", configure: { $0.requiredContext = "ws_j572abc" }) { _, client in
            let error = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            guard case .unauthorized(403, let detail)? = error else {
                Issue.record("expected 403, got \(String(describing: error))")
                return
            }
            #expect(detail?.contains("code \(SimulatorErrorCode.forbidden)") == true)
        }
    }

    @Test("the create is sent as application/json, which the strict simulator requires")
    func contentType() async throws {
        try await SimulatorHarness.run(configure: { $0.strictContentType = true }) { server, client in
            _ = try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t")
            #expect(server.control.stats().createsTotal == 1)
        }
    }
}
