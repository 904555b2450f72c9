import AkuaSimulator
import Foundation
import Testing

/// Every fault kind observably happens, over real HTTP.
@Suite("Fault injection")
struct FaultInjectionTests {
    @Test("rate limit: 429 with Retry-After seconds or an HTTP date")
    func rateLimit() async throws {
        let clock = ManualClock(1_800_000_000)
        try await withSimulator(configure: {
            $0.now = clock.closure
            $0.faults = SimulatorFaults(rateLimitRate: 1, retryAfterSeconds: 7)
        }) { sim in
            let limited = try await sim.create()
            #expect(limited.status == 429)
            #expect(limited.header("retry-after") == "7")
            #expect(limited.errorCode == SimulatorErrorCode.rateLimited)

            try sim.server.control.setFaults(SimulatorFaults(rateLimitRate: 1, retryAfterSeconds: 30, retryAfterHTTPDate: true))
            let dated = try await sim.send(.GET, "/v1/machines")
            #expect(dated.status == 429)
            // 1_800_000_000 + 30 = 2027-01-15T08:00:30Z
            #expect(dated.header("retry-after") == "Fri, 15 Jan 2027 08:00:30 GMT")
            #expect(sim.server.control.stats().createsTotal == 0)
            #expect(sim.server.control.stats().faultsByKind["rate_limit"] == 2)
        }
    }

    @Test("drop closes the connection without a response (after creating the report)")
    func drop() async throws {
        try await withSimulator(configure: { $0.faults = SimulatorFaults(dropRate: 1) }) { sim in
            await #expect(throws: (any Error).self) {
                _ = try await sim.create(key: "drop-1")
            }
            let stats = sim.server.control.stats()
            #expect(stats.faultsByKind["drop"] ?? 0 >= 1)
            #expect(stats.reportsByKey["drop-1"] == 1)

            // The retry with the same key gets the original report once faults are gone.
            try sim.server.control.setFaults(.none)
            let retry = try await sim.create(key: "drop-1")
            #expect(retry.status == 201)
            #expect(retry.header("idempotent-replayed") == "true")
            #expect(sim.server.control.stats().reportsByKey["drop-1"] == 1)
        }
    }

    @Test("hang never answers within the client timeout, and shutdown still completes promptly")
    func hang() async throws {
        let harness = try await SimulatorHarness.start(configure: { $0.faults = SimulatorFaults(hangRate: 1) })
        let started = ContinuousClock.now
        await #expect(throws: (any Error).self) {
            _ = try await harness.send(.GET, "/v1/machines", timeoutMs: 300)
        }
        #expect(ContinuousClock.now - started >= .milliseconds(250))
        // A second request is parked while we shut down.
        let parked = Task { try await harness.send(.GET, "/v1/machines/mch_a", timeoutMs: 10_000) }
        try await Task.sleep(for: .milliseconds(100))
        let shutdownStart = ContinuousClock.now
        await harness.shutdown()
        // The parked request waits 10 s; shutdown must release it rather than wait it out.
        #expect(ContinuousClock.now - shutdownStart < .seconds(8))
        let outcome = await parked.result
        #expect((try? outcome.get()) == nil, "a hung request must never get an answer")
    }

    @Test("oversized: a 201 body over 1 MiB that is still valid JSON")
    func oversized() async throws {
        try await withSimulator(configure: { $0.faults = SimulatorFaults(oversizedRate: 1) }) { sim in
            let response = try await sim.create()
            #expect(response.status == 201)
            #expect(response.body.count > 1 << 20)
            #expect(response.json?["id"] as? String != nil)
            #expect(sim.server.control.stats().faultsByKind["oversized"] == 1)
        }
    }

    @Test("missing state, unknown state and malformed bodies")
    func corruptedBodies() async throws {
        try await withSimulator(configure: { $0.faults = SimulatorFaults(missingStateRate: 1) }) { sim in
            let missing = try await sim.create()
            #expect(missing.status == 201)
            let json = try #require(missing.json)
            #expect(json["state"] == nil)
            #expect(json["id"] != nil)

            try sim.server.control.setFaults(SimulatorFaults(unknownStateRate: 1))
            #expect(try await sim.create().json?["state"] as? String == "exploded")

            try sim.server.control.setFaults(SimulatorFaults(malformedRate: 1))
            let malformed = try await sim.create(key: "mal-1")
            #expect(malformed.status == 201)
            #expect(malformed.json == nil)
            #expect((try? JSONSerialization.jsonObject(with: Data(malformed.body))) == nil)

            // The report behind a corrupted answer exists: a clean retry replays it.
            try sim.server.control.setFaults(.none)
            let retry = try await sim.create(key: "mal-1")
            #expect(retry.header("idempotent-replayed") == "true")
            #expect(retry.json?["state"] as? String == "in_sync")
            let stats = sim.server.control.stats()
            #expect(stats.faultsByKind["missing_state"] == 1)
            #expect(stats.faultsByKind["unknown_state"] == 1)
            #expect(stats.faultsByKind["malformed"] == 1)
        }
    }

    @Test("error_rate picks from error_statuses; fail_next fails exactly the next N POSTs")
    func errors() async throws {
        try await withSimulator(configure: { $0.faults = SimulatorFaults(errorRate: 1, errorStatuses: [502, 503]) }) { sim in
            var statuses = Set<Int>()
            for _ in 0..<20 {
                let response = try await sim.create()
                statuses.insert(response.status)
                #expect(response.json?["success"] as? Bool == false)
            }
            #expect(statuses == [502, 503])
            #expect(sim.server.control.stats().createsTotal == 0)

            let put = try await sim.send(.PUT, "/_sim/faults", token: nil, body: "{\"fail_next\":2,\"error_statuses\":[500]}")
            #expect(put.status == 200)
            #expect(put.json?["fail_next"] as? Int == 2)
            #expect(try await sim.send(.GET, "/v1/machines").status == 200)  // GETs do not consume fail_next
            #expect(try await sim.create().status == 500)
            #expect(try await sim.create().status == 500)
            #expect(try await sim.create().status == 201)
            #expect(sim.server.control.faults().failNext == 0)
        }
    }

    @Test("latency is added, and machine_ids restricts faults to the listed machines")
    func latencyAndRestriction() async throws {
        try await withSimulator(configure: {
            $0.faults = SimulatorFaults(latencyMs: 2_500, errorRate: 1, errorStatuses: [503], machineIDs: ["mch_b"])
        }) { sim in
            // Each unaffected request on its own: had the latency been applied, it would take >= 2.5 s.
            let clean = ContinuousClock.now
            let unaffected = try await sim.create("mch_a")
            #expect(ContinuousClock.now - clean < .milliseconds(2_500))
            let listed = ContinuousClock.now
            let list = try await sim.send(.GET, "/v1/machines")
            #expect(ContinuousClock.now - listed < .milliseconds(2_500))
            #expect(unaffected.status == 201)
            #expect(list.status == 200)

            let slow = ContinuousClock.now
            let faulted = try await sim.create("mch_b")
            #expect(faulted.status == 503)
            #expect(ContinuousClock.now - slow >= .milliseconds(2_500))

            let cleared = try await sim.send(.DELETE, "/_sim/faults", token: nil)
            #expect(cleared.status == 204)
            let recovered = try await sim.create("mch_b")
            #expect(recovered.status == 201)
        }
    }

    @Test("faults are seeded: the same seed gives the same outcome sequence")
    func seeded() async throws {
        func outcomes(seed: UInt64) async throws -> [Int] {
            var statuses: [Int] = []
            try await withSimulator(configure: {
                $0.seed = seed
                $0.faults = SimulatorFaults(errorRate: 0.5, errorStatuses: [503])
            }) { sim in
                for _ in 0..<24 { statuses.append(try await sim.send(.GET, "/v1/machines").status) }
            }
            return statuses
        }
        let a = try await outcomes(seed: 42)
        let b = try await outcomes(seed: 42)
        #expect(a == b)
        #expect(a.contains(503) && a.contains(200))
    }
}
