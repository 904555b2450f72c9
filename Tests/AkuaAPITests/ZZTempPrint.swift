import Testing
import AkuaSimulator
@testable import AkuaAPI

@Test func zzDrop() async throws {
    for _ in 0..<10 {
        try await SimulatorHarness.run(faults: SimulatorFaults(dropRate: 1)) { server, client in
            let e1 = await apiError { try await client.listMachines() }
            let e2 = await apiError { try await client.createDriftReport(machineID: "mch_a", idempotencyKey: "k", trigger: "t") }
            print("DROP:", e1 as Any, "|", e2 as Any, server.control.stats().requestsTotal, server.control.stats().faultsByKind)
        }
    }
}
