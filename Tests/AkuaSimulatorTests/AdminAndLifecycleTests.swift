import AkuaSimulator
import AsyncHTTPClient
import Foundation
import Testing

/// `/_sim` admin endpoints and the server lifecycle.
@Suite("Admin endpoints and lifecycle")
struct AdminAndLifecycleTests {
    @Test("add a machine, set its state, delete it (404 afterwards)")
    func machineAdmin() async throws {
        try await withSimulator { sim in
            let added = try await sim.send(.POST, "/_sim/machines", token: nil, body: "{\"id\":\"mch_new\",\"name\":\"new-1\",\"state\":\"drifted\"}")
            #expect(added.status == 201)
            #expect(added.json?["name"] as? String == "new-1")
            #expect(try await sim.send(.POST, "/_sim/machines", token: nil, body: "{\"id\":\"mch_new\"}").status == 409)
            #expect(try await sim.send(.POST, "/_sim/machines", token: nil, body: "{\"id\":\"\"}").status == 400)
            #expect(try await sim.send(.POST, "/_sim/machines", token: nil, body: "{nope").status == 400)

            #expect(try await sim.create("mch_new").json?["state"] as? String == "drifted")
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_new/state", token: nil, body: "{\"state\":\"in_sync\"}").status == 200)
            #expect(try await sim.create("mch_new").json?["state"] as? String == "in_sync")
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_new/state", token: nil, body: "{\"state\":\"maybe\"}").status == 400)
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_zzz/state", token: nil, body: "{\"state\":\"drifted\"}").status == 404)

            let ids = (try await sim.send(.GET, "/v1/machines").json?["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids == ["mch_a", "mch_b", "mch_new"])

            #expect(try await sim.send(.DELETE, "/_sim/machines/mch_new", token: nil).status == 204)
            #expect(try await sim.send(.GET, "/v1/machines/mch_new").status == 404)
            #expect(try await sim.create("mch_new").status == 404)
            #expect(try await sim.send(.DELETE, "/_sim/machines/mch_new", token: nil).status == 404)

            try sim.server.control.addMachine(SimulatedMachine(id: "mch_ctl"))
            #expect(throws: SimulatorControlError.duplicateMachine("mch_ctl")) { try sim.server.control.addMachine(SimulatedMachine(id: "mch_ctl")) }
            try sim.server.control.deleteMachine(id: "mch_ctl")
            #expect(throws: SimulatorControlError.unknownMachine("mch_ctl")) { try sim.server.control.deleteMachine(id: "mch_ctl") }
        }
    }

    @Test("PUT /_sim/machines/{id}/attributes pins the attributes a drifted report names; null unpins; bad bodies are 400")
    func pinnedAttributes() async throws {
        try await withSimulator { sim in
            func attributes() async throws -> Set<String> {
                Set((try await sim.create("mch_a").json?["delta"] as? [String: Any] ?? [:]).keys)
            }
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_a/state", token: nil, body: "{\"state\":\"drifted\"}").status == 200)
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_a/attributes", token: nil, body: "{\"attributes\":[\"memory_mb\",\"cpu\"]}").status == 204)
            for _ in 0..<5 { #expect(try await attributes() == ["cpu", "memory_mb"]) }
            try sim.server.control.setDriftAttributes(["image"], machineID: "mch_a")
            #expect(try await attributes() == ["image"])
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_a/attributes", token: nil, body: "{\"attributes\":null}").status == 204)
            var seen = Set<Set<String>>()
            for _ in 0..<12 { seen.insert(try await attributes()) }
            #expect(seen.count > 1, "unpinned reports should vary their attributes")
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_a/attributes", token: nil, body: "{\"attributes\":[\"colour\"]}").status == 400)
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_a/attributes", token: nil, body: "[]").status == 400)
            #expect(try await sim.send(.PUT, "/_sim/machines/mch_zzz/attributes", token: nil, body: "{\"attributes\":[]}").status == 404)
        }
    }

    @Test("PUT /_sim/faults validates and echoes; GET shows it")
    func faultsAdmin() async throws {
        try await withSimulator { sim in
            #expect(try await sim.send(.PUT, "/_sim/faults", token: nil, body: "{\"drop_rate\":1.5}").status == 400)
            #expect(try await sim.send(.PUT, "/_sim/faults", token: nil, body: "{\"explode\":true}").status == 400)
            let put = try await sim.send(.PUT, "/_sim/faults", token: nil, body: "{\"latency_ms\":3,\"machine_ids\":[\"mch_b\"]}")
            #expect(put.status == 200)
            let current = try await sim.send(.GET, "/_sim/faults", token: nil)
            #expect(current.json?["latency_ms"] as? Int == 3)
            #expect(current.json?["machine_ids"] as? [String] == ["mch_b"])
            #expect(sim.server.control.faults().machineIDs == ["mch_b"])
        }
    }

    @Test("unknown routes and methods answer in ApiErrorResponse shape")
    func routing() async throws {
        try await withSimulator { sim in
            let unknown = try await sim.send(.GET, "/v1/clusters")
            #expect(unknown.status == 404)
            #expect(unknown.json?["success"] as? Bool == false)
            let method = try await sim.send(.DELETE, "/v1/machines/mch_a/drift_reports")
            #expect(method.status == 405)
            #expect(method.header("allow") == "GET, POST")
        }
    }

    @Test("shutdown really stops the server and start reports the bound port")
    func shutdown() async throws {
        // A loopback address of its own: tests running in parallel on 127.0.0.1 may reuse a freed port at once.
        let host = "127.0.0.73"
        let server = try await SimulatorServer.start(host: host, options: SimulatorOptions(machines: [SimulatedMachine(id: "mch_a")]))
        #expect(server.port > 0)
        #expect(server.baseURL == "http://\(host):\(server.port)/v1")
        #expect(tcpConnects(port: server.port, host: host))
        await server.shutdown()
        await server.shutdown()  // idempotent
        #expect(!tcpConnects(port: server.port, host: host), "the listener must be closed")
    }

    @Test("start rejects invalid options and an occupied port")
    func startFailures() async throws {
        await #expect(throws: SimulatorConfigError.self) {
            _ = try await SimulatorServer.start(options: SimulatorOptions(machines: [SimulatedMachine(id: String(repeating: "x", count: 60))]))
        }
        let first = try await SimulatorHarness.start()
        await #expect(throws: (any Error).self) {
            let second = try await SimulatorServer.start(port: first.server.port, options: SimulatorOptions())
            await second.shutdown()
        }
        await first.shutdown()
    }

    @Test("concurrent creates with distinct keys are all counted once")
    func concurrency() async throws {
        try await withSimulator { sim in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<200 {
                    group.addTask { try await sim.create(index % 2 == 0 ? "mch_a" : "mch_b", key: "key-\(index % 100)").status }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                #expect(statuses.allSatisfy { $0 == 201 || $0 == 409 })
            }
            let stats = sim.server.control.stats()
            #expect(stats.createsTotal == 100)
            #expect(stats.reportsByKey.count == 100)
            #expect(stats.reportsByKey.values.allSatisfy { $0 == 1 })
            #expect(stats.requestsByKey.values.allSatisfy { $0 == 2 })
            #expect(stats.requestsTotal == 200)
        }
    }
}
