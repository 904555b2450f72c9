import AkuaSimulator
import Foundation
import Testing

@testable import AkuaAPI

/// Issue 10 §6 (fleet onboarding): `listAllMachines` follows every page of `GET /machines`, stops on a
/// repeated cursor, and rejects filter values the contract forbids before sending anything.
@Suite("Listing every machine (machines import)")
struct MachineListingTests {
    @Test("every page is followed, per state and cluster filter, each machine once")
    func allPages() async throws {
        let machines = (1...11).map { SimulatedMachine(id: "mch_\($0)", clusterID: $0 <= 4 ? "cls_a" : "cls_b") }
        try await SimulatorHarness.run(machines: machines) { _, client in
            let all = try await client.listAllMachines(MachineListQuery(pageSize: 3))
            #expect(all.machines.map(\.id) == machines.map(\.id))
            #expect(all.pages == 4)
            #expect(all.repeatedCursor == nil)

            let byCluster = try await client.listAllMachines(MachineListQuery(clusterIDs: ["cls_b", "cls_a"], pageSize: 2))
            #expect(byCluster.machines.map(\.id) == (5...11).map { "mch_\($0)" } + (1...4).map { "mch_\($0)" })
            #expect(byCluster.pages == 4 + 2)

            // Every simulated machine is ACTIVE; the same machine listed twice is kept once.
            let states = try await client.listAllMachines(MachineListQuery(states: ["SUSPENDED", "ACTIVE", "ACTIVE"]))
            #expect(states.machines.count == 11)
            #expect(states.pages == 3)
        }
    }

    @Test("a repeated cursor ends the listing instead of looping")
    func repeatedCursor() async throws {
        let server = try ScriptedHTTPServer { request in
            let next: String
            switch String(request.target) {
            case "/v1/machines?limit=2": next = "c1"
            case "/v1/machines?cursor=c1&limit=2": next = "c2"
            default: next = "c1"  // c2 hands out c1 again
            }
            return ScriptedHTTPServer.response(200, body: #"{"data":[],"has_more":true,"next_cursor":"\#(next)"}"#)
        }
        defer { server.stop() }
        let listing = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client in
            try await client.listAllMachines(MachineListQuery(pageSize: 2))
        }
        #expect(listing.repeatedCursor == "c1")
        #expect(listing.pages == 3)
        #expect(server.requests.map(\.target) == [
            "/v1/machines?limit=2", "/v1/machines?cursor=c1&limit=2", "/v1/machines?cursor=c2&limit=2",
        ])
    }

    @Test("filter values outside the contract are rejected before any request", arguments: [
        MachineListQuery(states: ["active"]), MachineListQuery(states: ["ACTIVE", "RUNNING"]), MachineListQuery(states: [""]),
        MachineListQuery(clusterIDs: [""]), MachineListQuery(clusterIDs: [String(repeating: "c", count: 55)]),
        MachineListQuery(pageSize: 0), MachineListQuery(pageSize: 101),
    ])
    func invalidQueries(query: MachineListQuery) async throws {
        #expect(query.problem != nil)
        let server = try ScriptedHTTPServer { _ in ScriptedHTTPServer.response(200, body: #"{"data":[],"has_more":false}"#) }
        defer { server.stop() }
        let error = try await SimulatorHarness.withClient(baseURL: server.baseURL) { client -> AkuaAPIError? in
            do throws(AkuaAPIError) {
                _ = try await client.listAllMachines(query)
                return nil
            } catch {
                return error
            }
        }
        guard case .invalidRequest(let status, _)? = error, status == nil else {
            Issue.record("expected invalidRequest, got \(String(describing: error))")
            return
        }
        #expect(server.requests.isEmpty)
    }

    @Test("the contract's boundary values are accepted")
    func validQueries() {
        #expect(MachineListQuery(states: MachineLifecycleState.documented.map(\.rawValue), clusterIDs: ["c", String(repeating: "c", count: 54)], pageSize: 100).problem == nil)
        #expect(MachineListQuery(pageSize: 1).problem == nil)
    }
}
