import DriftCore
import DriftStore
import Foundation
import Testing

/// A fresh directory under the system temp dir, removed (with every state file in it) when `body` returns.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("driftstore-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

/// The `StoreError` that `body` throws, or nil (recording an issue) when it succeeds.
func storeError(_ body: () throws -> Void) -> StoreError? {
    do {
        try body()
        Issue.record("expected a StoreError")
        return nil
    } catch let error as StoreError {
        return error
    } catch {
        Issue.record("expected a StoreError, got \(error)")
        return nil
    }
}

/// 2026-01-01T00:00:00Z in unix ms.
let t0: Int64 = 1_767_225_600_000

func makeReport(_ id: String, machine: String, state: ReportState, at: Int64 = t0, ttlSeconds: Int64 = 900) -> DriftReport {
    DriftReport(
        id: id, machineID: machine, state: state, etag: "\"etag-\(id)\"", createdAt: at / 1_000, startedAt: at / 1_000 - 2,
        expiresAt: at / 1_000 + ttlSeconds,
        delta: state == .drifted ? ["cpu": .object(["desired": .number(2), "actual": .number(4)]), "image": .string("v2")] : nil,
        providerSnapshot: ProviderSnapshot(provider: "hetzner", rawAttrs: ["cores": .number(4), "tags": .array([.string("a")])]))
}

/// A finished check that brought `report` and changed the machine's state from `previous`.
func checkRecord(
    _ machine: String, report: DriftReport, previous: DriftState, at: Int64, webhooks: [String] = ["hook-a"],
    slot: Int64? = nil, firstObservation: Bool = false
) -> CheckRecord {
    let transition = Transition(
        machineID: machine, machineName: "name-\(machine)", previous: previous, state: report.state.driftState, cause: .report,
        report: report, at: at, firstObservation: firstObservation)
    return CheckRecord(
        machineID: machine, checkedAt: at, report: report, completedSlot: slot, transition: transition,
        outbox: webhooks.map { OutboxItem(webhook: $0, body: Array("{\"event\":\"\(transition.eventID)\",\"hook\":\"\($0)\"}".utf8)) },
        nextDueAt: at + 900_000)
}

func fileBytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }
