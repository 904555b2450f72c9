import AkuaSimulator
import Foundation
import Testing

/// Time-driven behaviour (expiry, flip, random) with an injected clock, plus option parsing.
@Suite("Scenarios and options")
struct ScenarioTests {
    @Test("expires_at = created_at + TTL, following the injected clock and runtime TTL changes")
    func expiry() async throws {
        let clock = ManualClock(1_800_000_000.9)
        try await withSimulator(configure: { $0.now = clock.closure; $0.ttlSeconds = 60 }) { sim in
            let first = try #require(try await sim.create().json)
            #expect(first["created_at"] as? Int == 1_800_000_000)
            #expect(first["expires_at"] as? Int == 1_800_000_060)

            clock.advance(100)
            sim.server.control.setTTL(seconds: 15)
            let second = try #require(try await sim.create().json)
            #expect(second["created_at"] as? Int == 1_800_000_100)
            #expect(second["expires_at"] as? Int == 1_800_000_115)

            #expect(try await sim.send(.PUT, "/_sim/ttl", token: nil, body: "{\"ttl_seconds\":900}").status == 204)
            let third = try #require(try await sim.create().json)
            #expect(third["expires_at"] as? Int == 1_800_000_100 + 900)
        }
    }

    @Test("flip scenario alternates every N seconds from the simulator start; setState pins it")
    func flip() async throws {
        let clock = ManualClock()
        let machines = [SimulatedMachine(id: "mch_flip", scenario: .flip(everySeconds: 10, startingWith: .drifted))]
        try await withSimulator(machines: machines, configure: { $0.now = clock.closure }) { sim in
            func state() async throws -> String? {
                try await sim.create("mch_flip").json?["state"] as? String
            }
            #expect(try await state() == "drifted")
            clock.advance(9.9)
            #expect(try await state() == "drifted")
            clock.advance(0.1)
            #expect(try await state() == "in_sync")
            clock.advance(10)
            #expect(try await state() == "drifted")
            clock.advance(15)
            #expect(try await state() == "in_sync")

            try sim.server.control.setState(.drifted, machineID: "mch_flip")
            clock.advance(10)
            #expect(try await state() == "drifted")
            let put = try await sim.send(.PUT, "/_sim/machines/mch_flip/state", token: nil, body: "{\"state\":\"in_sync\"}")
            #expect(put.status == 200)
            clock.advance(10)
            #expect(try await state() == "in_sync")
        }
    }

    @Test("random scenario is reproducible for a seed and honours the probability")
    func random() async throws {
        func sequence() async throws -> [String] {
            var states: [String] = []
            let machines = [
                SimulatedMachine(id: "mch_r", scenario: .random(seed: 3, driftedProbability: 0.5)),
                SimulatedMachine(id: "mch_never", scenario: .random(seed: 3, driftedProbability: 0)),
            ]
            try await withSimulator(machines: machines) { sim in
                for _ in 0..<20 {
                    states.append(try await sim.create("mch_r").json?["state"] as? String ?? "?")
                    #expect(try await sim.create("mch_never").json?["state"] as? String == "in_sync")
                }
            }
            return states
        }
        let first = try await sequence()
        let second = try await sequence()
        #expect(first == second)
        #expect(first.contains("drifted"))
        #expect(first.contains("in_sync"))
    }

    @Test("scenario file parsing: fixed, flip and random machines plus ttl, seed and faults")
    func scenarioFile() throws {
        let json = """
            {"ttl_seconds":600, "seed":7, "faults":{"latency_ms":5,"error_rate":0.1,"error_statuses":[503]},
             "machines":[{"id":"mch_a","name":"web-1","state":"in_sync"},
                         {"id":"mch_b","flip_every_seconds":20,"state":"drifted"},
                         {"id":"mch_c","random":{"seed":3,"p_drifted":0.3}}]}
            """
        let options = try SimulatorOptions(token: "t").applyingScenario(json: json)
        #expect(options.ttlSeconds == 600)
        #expect(options.seed == 7)
        #expect(options.faults.latencyMs == 5)
        #expect(options.faults.errorRate == 0.1)
        #expect(options.faults.errorStatuses == [503])
        #expect(options.machines.map(\.id) == ["mch_a", "mch_b", "mch_c"])
        #expect(options.machines[0].name == "web-1")
        #expect(options.machines[0].scenario == .fixed(.inSync))
        #expect(options.machines[1].scenario == .flip(everySeconds: 20, startingWith: .drifted))
        #expect(options.machines[2].scenario == .random(seed: 3, driftedProbability: 0.3))
        try options.validate()

        let bad: [(String, String)] = [
            ("{\"machines\":[{\"id\":\"a\",\"state\":\"weird\"}]}", "machines[0].state"),
            ("{\"machines\":[{\"name\":\"x\"}]}", "machines[0].id"),
            ("{\"faults\":{\"drop_rate\":2}}", "faults.drop_rate"),
            ("{\"faults\":{\"dropp_rate\":0.1}}", "faults.dropp_rate"),
            ("{\"ttl_seconds\":\"15m\"}", "ttl_seconds"),
            ("{\"machines\":[", "invalid JSON"),
        ]
        for (text, fragment) in bad {
            #expect {
                try SimulatorOptions().applyingScenario(json: text)
            } throws: { error in
                (error as? SimulatorConfigError)?.message.contains(fragment) == true
            }
        }
        let duplicate = SimulatorOptions(machines: [SimulatedMachine(id: "x"), SimulatedMachine(id: "x")])
        #expect(throws: SimulatorConfigError.self) { try duplicate.validate() }
    }

    @Test("--machines lists, generated machines and duration parsing")
    func flagHelpers() throws {
        let machines = try SimulatedMachine.parseList("a,b=drifted,c=in_sync")
        #expect(machines.map(\.id) == ["a", "b", "c"])
        #expect(machines.map(\.scenario) == [.fixed(.inSync), .fixed(.drifted), .fixed(.inSync)])
        #expect(throws: SimulatorConfigError.self) { try SimulatedMachine.parseList("a,,b") }
        #expect(throws: SimulatorConfigError.self) { try SimulatedMachine.parseList("a=purple") }

        let generated = SimulatedMachine.generated(count: 100_000)
        #expect(generated.count == 100_000)
        #expect(generated.first?.id == "mch_sim_000001")
        #expect(generated.last?.id == "mch_sim_100000")

        #expect(SimulatorDuration.seconds("900") == 900)
        #expect(SimulatorDuration.seconds("900s") == 900)
        #expect(SimulatorDuration.seconds("15m") == 900)
        #expect(SimulatorDuration.seconds("1h") == 3600)
        #expect(SimulatorDuration.seconds("1h30m") == 5400)
        #expect(SimulatorDuration.milliseconds("250ms") == 250)
        for bad in ["", "0", "-5", "15x", "m", "1.5h", "abc"] {
            #expect(SimulatorDuration.seconds(bad) == nil, "\(bad)")
        }
    }

    @Test("100,000 generated machines start quickly and page through cheaply")
    func manyMachines() async throws {
        let start = ContinuousClock.now
        try await withSimulator(machines: SimulatedMachine.generated(count: 100_000)) { sim in
            let page = try await sim.send(.GET, "/v1/machines?limit=100&cursor=mc_" + String(99_950, radix: 36))
            let data = page.json?["data"] as? [[String: Any]] ?? []
            #expect(data.count == 50)
            #expect(data.last?["id"] as? String == "mch_sim_100000")
            #expect(page.json?["has_more"] as? Bool == false)
            #expect(try await sim.create("mch_sim_054321").status == 201)
        }
        // A guard against pathological (quadratic) set-up, not a speed target: those are benchmarks.
        #expect(ContinuousClock.now - start < .seconds(60))
    }
}
