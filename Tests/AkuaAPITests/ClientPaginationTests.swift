import AkuaSimulator
import DriftCore
import Testing

@testable import AkuaAPI

/// Cursor pagination and filters of the two list operations, against the simulator.
@Suite("AkuaClient pagination")
struct ClientPaginationTests {
    @Test("machines paginate with cursors and filter by cluster and state")
    func machinePagination() async throws {
        let machines = (1...7).map { SimulatedMachine(id: "mch_\($0)", clusterID: $0 <= 2 ? "cls_small" : "cls_big") }
        try await SimulatorHarness.run(machines: machines) { _, client in
            var ids: [String] = []
            var sizes: [Int] = []
            var cursor: String?
            repeat {
                let page = try await client.listMachines(cursor: cursor, limit: 3)
                ids += page.data.map(\.id)
                sizes.append(page.data.count)
                #expect(page.hasMore == (page.nextCursor != nil))
                cursor = page.nextCursor
            } while cursor != nil
            #expect(ids == machines.map(\.id))
            #expect(sizes == [3, 3, 1])

            let small = try await client.listMachines(clusterID: "cls_small")
            #expect(small.data.map(\.id) == ["mch_1", "mch_2"])
            #expect(!small.hasMore)
            let first = try #require(small.data.first)
            #expect(first.state == .active)
            #expect(first.clusterID == "cls_small")
            #expect(first.providerID.hasPrefix("compute://hcloud/"))
            #expect(first.workspaceID == "ws_sim_local")
            #expect(try await client.listMachines(state: .suspended).data.isEmpty)
        }
    }

    @Test("drift reports paginate and filter by state")
    func reportPagination() async throws {
        try await SimulatorHarness.run { server, client in
            var created: Set<String> = []
            for index in 0..<5 {
                if index == 3 { try server.control.setState(.inSync, machineID: "mch_a") }
                created.insert(try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k\(index)", trigger: "t").report.id)
            }
            var seen: [String] = []
            var sizes: [Int] = []
            var cursor: String?
            repeat {
                let page = try await client.listDriftReports(machineID: "mch_a", cursor: cursor, limit: 2)
                seen += page.data.map(\.id)
                sizes.append(page.data.count)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(sizes == [2, 2, 1])
            #expect(Set(seen) == created)
            #expect(seen.count == 5)
            let drifted = try await client.listDriftReports(machineID: "mch_a", state: .drifted)
            #expect(drifted.data.count == 3)
            #expect(drifted.data.allSatisfy { $0.state == .drifted })
            #expect(try await client.listDriftReports(machineID: "mch_a", state: .inSync).data.count == 2)
        }
    }
}
