import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Synchronization
import Testing
import WebhookReceiver

@testable import DriftWebhooks

/// A dispatcher clock that moves only when the test says so. Every `wait` that parks is logged in
/// `waits` (its deadline, nil for "until signalled"), so a test knows when the dispatcher is parked and
/// until when.
final class ManualDispatcherClock: DispatcherClock {
    private struct State {
        var now: Int64
        var parked: [(deadline: Int64?, signal: WakeSignal)] = []
    }
    private let state: Mutex<State>
    private let log = Mutex<[Int64?]>([])

    init(startMs: Int64) {
        state = Mutex(State(now: startMs))
    }

    /// The deadline of every wait that parked, in order.
    var waits: [Int64?] { log.withLock { $0 } }

    func nowMs() -> Int64 { state.withLock { $0.now } }

    func wait(untilMs deadlineMs: Int64?, signal: WakeSignal) async {
        let due = state.withLock { state -> Bool in
            if let deadlineMs, deadlineMs <= state.now { return true }
            state.parked.append((deadlineMs, signal))
            return false
        }
        if due { return }
        log.withLock { $0.append(deadlineMs) }
        await signal.wait(timeoutMs: nil)
        state.withLock { state in state.parked.removeAll { $0.signal === signal } }
    }

    /// Moves the clock to `ms` and wakes every wait whose deadline has come.
    func advance(to ms: Int64) {
        let woken = state.withLock { state -> [WakeSignal] in
            state.now = ms
            return state.parked.filter { $0.deadline.map { $0 <= ms } ?? false }.map(\.signal)
        }
        for signal in woken { signal.signal() }
    }
}

/// The real outbox of a SQLite file that fails when told: outcome writes go through a read-only connection
/// to the same file, as on a read-only or full file system (SQLite itself refuses them), and reads of due
/// deliveries throw, as for a vanished or corrupt state file.
final class FaultyWhenToldOutbox: WebhookOutbox {
    struct Unreadable: Error {}
    let database: AppDatabase
    let readOnly: AppDatabase
    private let refusing = Mutex(false)
    private let refusingReads = Mutex(false)
    /// Outcome writes refused so far.
    let refusals = Mutex(0)
    private let readRefusals = Mutex(0)

    init(path: String) throws {
        database = try AppDatabase.open(path: path)
        readOnly = try AppDatabase.openReadOnly(path: path)
    }

    func refuseWrites(_ on: Bool) { refusing.withLock { $0 = on } }
    func refuseReads(_ on: Bool) { refusingReads.withLock { $0 = on } }
    /// Reads of due deliveries refused so far.
    var refusedReads: Int { readRefusals.withLock { $0 } }

    private var writer: AppDatabase {
        if refusing.withLock({ $0 }) {
            refusals.withLock { $0 += 1 }
            return readOnly
        }
        return database
    }

    func dueDeliveries(webhook: String, now: Int64, limit: Int) throws -> [DeliveryRecord] {
        if refusingReads.withLock({ $0 }) {
            readRefusals.withLock { $0 += 1 }
            throw Unreadable()
        }
        return try database.dueDeliveries(webhook: webhook, now: now, limit: limit)
    }
    func nextDeliveryTime(webhook: String, after: Int64) throws -> Int64? {
        try database.nextDeliveryTime(webhook: webhook, after: after)
    }
    func markDelivered(seq: Int64, attempts: Int, at: Int64) throws {
        try writer.markDelivered(seq: seq, attempts: attempts, at: at)
    }
    func scheduleRetry(seq: Int64, attempts: Int, nextAttemptAt: Int64, error: String) throws {
        try writer.scheduleRetry(seq: seq, attempts: attempts, nextAttemptAt: nextAttemptAt, error: error)
    }
    func markFailed(seq: Int64, attempts: Int, at: Int64, error: String) throws {
        try writer.markFailed(seq: seq, attempts: attempts, at: at, error: error)
    }
}

/// A loopback receiver that answers every POST with `status` and keeps each one, in arrival order.
final class CountingReceiver: Sendable {
    private final class Shared: Sendable {
        let requests = Mutex<[LoopbackWebhookServer.Request]>([])
    }
    let server: LoopbackWebhookServer
    private let shared: Shared

    var count: Int { shared.requests.withLock { $0.count } }
    var all: [LoopbackWebhookServer.Request] { shared.requests.withLock { $0 } }
    var url: String { server.url }

    private init(server: LoopbackWebhookServer, shared: Shared) {
        self.server = server
        self.shared = shared
    }

    static func start(status: Int = 204) async throws -> CountingReceiver {
        let shared = Shared()
        let server = try await LoopbackWebhookServer.start { request in
            shared.requests.withLock { $0.append(request) }
            return .init(status: status)
        }
        return CountingReceiver(server: server, shared: shared)
    }

    func shutdown() async { await server.shutdown() }
}

/// One machine's transition recorded in `database` with an outbox row for `webhook`, created at `atMs`.
@discardableResult
func recordTransition(
    in database: AppDatabase, webhook: String, machineID: String = "mch_outbox", atMs: Int64
) throws -> Transition {
    try database.configureMachines([(id: machineID, name: "outbox-test")])
    let report = DriftReport(
        id: "drf_\(machineID)_\(atMs)", machineID: machineID, state: .drifted, etag: "e1",
        createdAt: atMs / 1000, startedAt: atMs / 1000, expiresAt: atMs / 1000 + 900,
        delta: ["image": .object(["desired": .string("v2"), "actual": .string("v1")])])
    let transition = Transition(
        machineID: machineID, machineName: "outbox-test", previous: .inSync, state: .drifted, cause: .report,
        report: report, at: atMs, firstObservation: false)
    _ = try database.record([
        CheckRecord(
            machineID: machineID, checkedAt: atMs, report: report, transition: transition,
            outbox: [OutboxItem(webhook: webhook, body: WebhookPayload.body(for: transition))])
    ])
    return transition
}
