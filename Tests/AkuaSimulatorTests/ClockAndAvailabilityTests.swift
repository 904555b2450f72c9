import AkuaSimulator
import Foundation
import Testing

/// The simulator's `Date` header and clock skew, and the switch that makes the drift report operations
/// unavailable while `GET /machines/{id}` keeps answering.
@Suite("Simulator clock and operation availability")
struct ClockAndAvailabilityTests {
    /// RFC 9110 IMF-fixdate of `unixSeconds`, by Foundation (an oracle independent of the simulator's formatter).
    static func imfFixdate(_ unixSeconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(unixSeconds)))
    }

    @Test("every response carries Date from the simulator's clock: /v1 success and error, and /_sim")
    func dateHeader() async throws {
        let clock = ManualClock(1_800_000_000.75)
        try await withSimulator(configure: { $0.now = clock.closure }) { (sim: SimulatorHarness) async throws in
            let expected = Self.imfFixdate(1_800_000_000)
            #expect(try await sim.send(.GET, "/v1/machines").header("date") == expected)
            #expect(try await sim.send(.GET, "/v1/machines", token: "wrong").header("date") == expected)
            #expect(try await sim.create("mch_nope").header("date") == expected)
            #expect(try await sim.send(.GET, "/_sim/stats", token: nil).header("date") == expected)
            clock.advance(61)
            #expect(try await sim.create().header("date") == Self.imfFixdate(1_800_000_061))
        }
    }

    @Test("without an injected clock, Date is the wall clock")
    func wallClockDate() async throws {
        try await withSimulator { sim in
            let before = Int64(Date().timeIntervalSince1970)
            let date = try #require(try await sim.send(.GET, "/v1/machines").header("date"))
            let after = Int64(Date().timeIntervalSince1970)
            #expect((before...after).map(Self.imfFixdate).contains(date), "\(date)")
        }
    }

    @Test("clock skew moves Date and every report timestamp together; runtime changes apply to new answers")
    func clockSkew() async throws {
        let clock = ManualClock(1_800_000_000.25)
        try await withSimulator(configure: { $0.now = clock.closure; $0.clockSkewSeconds = -90; $0.ttlSeconds = 600 }) { sim in
            let created = try await sim.create(key: "k1")
            #expect(created.status == 201)
            #expect(created.header("date") == Self.imfFixdate(1_800_000_000 - 90))
            #expect(created.json?["created_at"] as? Int == 1_800_000_000 - 90)
            #expect(created.json?["started_at"] as? Int == 1_800_000_000 - 90)
            #expect(created.json?["expires_at"] as? Int == 1_800_000_000 - 90 + 600)
            let machine = try await sim.send(.GET, "/v1/machines/mch_a")
            #expect(try #require(machine.json?["updated_at"] as? Int) <= 1_800_000_000 - 90)

            let put = try await sim.send(.PUT, "/_sim/clock_skew", token: nil, body: #"{"seconds": 3600}"#)
            #expect(put.status == 204)
            let later = try await sim.create(key: "k2")
            #expect(later.header("date") == Self.imfFixdate(1_800_003_600))
            #expect(later.json?["created_at"] as? Int == 1_800_003_600)
            // A replay is the report as created, under the old skew; only the Date header moves.
            let replay = try await sim.create(key: "k1")
            #expect(replay.json?["created_at"] as? Int == 1_800_000_000 - 90)
            #expect(replay.header("date") == Self.imfFixdate(1_800_003_600))

            try sim.server.control.setClockSkew(seconds: 0)
            #expect(try await sim.send(.GET, "/v1/machines").header("date") == Self.imfFixdate(1_800_000_000))
            #expect(try await sim.send(.PUT, "/_sim/clock_skew", token: nil, body: #"{"seconds": "soon"}"#).status == 400)
            #expect(throws: SimulatorControlError.self) { try sim.server.control.setClockSkew(seconds: 400_000_000) }
        }
    }

    @Test("the skew does not move flip scenarios, which follow the real clock")
    func skewLeavesScenarios() async throws {
        let clock = ManualClock(1_800_000_000)
        let flip = SimulatedMachine(id: "mch_f", scenario: .flip(everySeconds: 100, startingWith: .inSync))
        try await withSimulator(machines: [flip], configure: { $0.now = clock.closure; $0.clockSkewSeconds = 150 }) { sim in
            #expect(try await sim.create("mch_f").json?["state"] as? String == "in_sync")
            try sim.server.control.setClockSkew(seconds: -5000)
            #expect(try await sim.create("mch_f").json?["state"] as? String == "in_sync")
            clock.advance(100)
            #expect(try await sim.create("mch_f").json?["state"] as? String == "drifted")
        }
    }

    @Test("drift_ops_status 404/405/501: every drift report operation answers it, GET /machines/{id} still 200",
          arguments: [404, 405, 501])
    func driftOpsUnavailable(status: Int) async throws {
        try await withSimulator(configure: { $0.driftOpsStatus = status }) { sim in
            let create = try await sim.create(key: "k")
            #expect(create.status == status)
            #expect(create.json?["success"] as? Bool == false)
            #expect(create.errorCode != nil)
            // Nothing in the body says which resource is missing: only GET /machines/{id} can tell.
            let errors = try #require(create.json?["errors"] as? [[String: Any]])
            #expect(errors.first?["metadata"] == nil)
            #expect(try await sim.send(.GET, "/v1/machines/mch_a/drift_reports").status == status)
            #expect(try await sim.send(.GET, "/v1/machines/mch_a/drift_reports/drf_x").status == status)
            #expect(try await sim.send(.GET, "/v1/machines/mch_a").status == 200)
            #expect(try await sim.send(.GET, "/v1/machines/mch_nope").status == 404)
            #expect(try await sim.send(.GET, "/v1/machines").status == 200)
            #expect(sim.server.control.stats().createsTotal == 0)
        }
    }

    @Test("drift_ops_status at runtime: PUT /_sim/drift_ops_status and control, null restores")
    func driftOpsRuntime() async throws {
        try await withSimulator { sim in
            #expect(try await sim.create().status == 201)
            #expect(try await sim.send(.PUT, "/_sim/drift_ops_status", token: nil, body: #"{"status": 501}"#).status == 204)
            #expect(try await sim.create().status == 501)
            #expect(try await sim.send(.PUT, "/_sim/drift_ops_status", token: nil, body: #"{"status": null}"#).status == 204)
            #expect(try await sim.create().status == 201)
            #expect(try await sim.send(.PUT, "/_sim/drift_ops_status", token: nil, body: #"{"status": 500}"#).status == 400)
            try sim.server.control.setDriftOpsStatus(404)
            #expect(try await sim.create().status == 404)
            #expect(throws: SimulatorControlError.self) { try sim.server.control.setDriftOpsStatus(503) }
        }
    }

    @Test("scenario keys and validation for the clock, operations, context and content type")
    func scenarioKeys() throws {
        let options = try SimulatorOptions().applyingScenario(json: """
            {"clock_skew_seconds": -30, "drift_ops_status": 405, "context": "ws_abc", "strict_content_type": false,
             "faults": {"sticky_bad_body": true, "odd_fields_rate": 0.25}}
            """)
        #expect(options.clockSkewSeconds == -30)
        #expect(options.driftOpsStatus == 405)
        #expect(options.requiredContext == "ws_abc")
        #expect(options.strictContentType == false)
        #expect(options.faults.stickyBadBody)
        #expect(options.faults.oddFieldsRate == 0.25)
        #expect(SimulatorOptions().strictContentType, "strict by default, like the contract")
        for bad in [
            #"{"drift_ops_status": 500}"#, #"{"context": ""}"#, #"{"clock_skew_seconds": 1e12}"#,
            #"{"clock_skew_seconds": 999999999999}"#, #"{"faults": {"odd_fields_rate": 2}}"#,
            #"{"faults": {"sticky_bad_body": 1}}"#,
        ] {
            #expect(throws: SimulatorConfigError.self, "\(bad)") { try SimulatorOptions().applyingScenario(json: bad) }
        }
        var invalid = SimulatorOptions(machines: [SimulatedMachine(id: "m")])
        invalid.driftOpsStatus = 200
        #expect(throws: SimulatorConfigError.self) { try invalid.validate() }
    }
}
