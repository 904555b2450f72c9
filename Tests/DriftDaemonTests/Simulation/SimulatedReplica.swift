import DriftCore
import DriftDaemon
import DriftStore
import DriftWebhooks
import Foundation

/// One daemon under virtual time: `EngineState` (the engine's whole policy) with the same thin step as
/// `DriftEngine` around it (fire, run checks, reduce, write the real SQLite file, commit), and restarts
/// that rebuild it from the file exactly as `DriftEngine.start()` does.
final class SimulatedReplica {
    struct Request {
        var machineID: String
        var occurrence: Occurrence
        var key: String
        var sentAt: Int64
        var completesAt: Int64
        var result: CheckResult
    }

    /// A transition as announced (written to the state file), with the local instant.
    struct Announcement {
        var at: Int64
        var transition: Transition
        var body: [UInt8]
    }

    let name: String
    let settings: EngineSettings
    let database: AppDatabase
    let seed: UInt64
    /// This replica's wall clock minus the simulation's.
    var clockOffsetMs: Int64 = 0
    private(set) var state: EngineState?
    private var inFlight: [Request] = []
    private var expiries: [EngineCompletion] = []
    private(set) var announcements: [Announcement] = []
    private(set) var logs: [EngineLogRecord] = []
    /// Every request sent: (key, machine, occurrence, sent at).
    private(set) var sent: [(key: String, machineID: String, occurrence: Occurrence, at: Int64)] = []
    /// Keys whose create returned a report that was recorded, with the local instant it was.
    private(set) var succeededKeys: [String: Int64] = [:]
    /// Per machine, each valid report received: (received at, local expiry).
    private(set) var receipts: [String: [(at: Int64, localExpiresAt: Int64)]] = [:]
    /// Up/down intervals (local ms): the replica was down in each range.
    private(set) var downtimes: [Range<Int64>] = []
    private var downSince: Int64?
    private(set) var restarts = 0
    /// Memory at each kill compared with what the file gives back at the next start.
    private(set) var memoryMismatches: [String] = []
    private var memoryAtKill: [String: EngineMachine]?

    init(name: String, settings: EngineSettings, path: String, seed: UInt64) throws {
        self.name = name
        self.settings = settings
        self.seed = seed
        database = try AppDatabase.open(path: path)
    }

    var isUp: Bool { state != nil }

    func start(now: Int64) throws {
        try database.configureMachines(settings.machines.map { ($0.id, $0.name) })
        var fresh = EngineState(settings: settings, seed: seed &+ UInt64(restarts))
        fresh.load(try database.machineBookkeeping(), keepMemory: false, now: now)
        if let before = memoryAtKill {
            for (id, machine) in before {
                guard let after = fresh.machines[id] else { continue }
                if after.state != machine.state || after.observed != machine.observed || after.failures != machine.failures
                    || after.report != machine.report || after.failingAnnounced != machine.failingAnnounced {
                    memoryMismatches.append("\(id): memory \(machine) ≠ file \(after)")
                }
            }
        }
        state = fresh
        if let since = downSince { downtimes.append(since..<now) }
        downSince = nil
    }

    /// `kill -9`: memory and requests in flight are lost; the state file stays.
    func kill(now: Int64) {
        memoryAtKill = state?.machines
        state = nil
        inFlight.removeAll()
        expiries.removeAll()
        downSince = now
        restarts += 1
    }

    /// The next instant this replica has something to do.
    func nextEvent(after simNow: Int64) -> Int64? {
        guard let state else { return nil }
        var next = inFlight.map(\.completesAt).min()
        if let wake = state.core.nextWakeup() {
            let at = wake == .min ? simNow : max(simNow, wake - clockOffsetMs)
            next = min(next ?? at, at)
        }
        return next
    }

    /// Runs everything due at `now` (the simulation's clock; this replica sees `now + clockOffsetMs`).
    func step(now simNow: Int64, api: ScriptedAPI) throws {
        guard state != nil else { return }
        let now = simNow + clockOffsetMs
        var rounds = 0
        while true {
            rounds += 1
            precondition(rounds < 10_000, "\(name): no progress at \(now)")
            var batch: [EngineCompletion] = []
            let done = inFlight.filter { $0.completesAt + clockOffsetMs <= now }
            inFlight.removeAll { $0.completesAt + clockOffsetMs <= now }
            for request in done {
                batch.append(.check(machineID: request.machineID, occurrence: request.occurrence, result: request.result, receivedAtMs: now))
            }
            if let wake = state!.core.nextWakeup(), wake <= now {
                for action in state!.core.fire(now: now) {
                    switch action {
                    case .check(let machineID, let occurrence, _, _):
                        let key = IdempotencyKey(machineID: machineID, occurrence: occurrence, trigger: settings.trigger).value
                        sent.append((key, machineID, occurrence, now))
                        let answer = api.create(machineID: machineID, key: key, localNow: now - clockOffsetMs)
                        inFlight.append(Request(machineID: machineID, occurrence: occurrence, key: key, sentAt: now,
                                                completesAt: simNow + max(1, answer.latencyMs), result: answer.result))
                    case .expire(let machineID, let expiresAtMs):
                        batch.append(.expiry(machineID: machineID, expiresAtMs: expiresAtMs))
                    }
                }
            }
            if batch.isEmpty {
                if let wake = state!.core.nextWakeup(), wake <= now { continue }
                return
            }
            try reduce(batch, now: now)
        }
    }

    private func reduce(_ batch: [EngineCompletion], now: Int64) throws {
        let database = self.database
        let step = state!.reduce(batch, now: now) { id in (try? database.machine(id: id))?.report }
        logs += step.logs
        let fresh = try database.record(step.records)
        _ = state!.commit(step)
        for record in step.records {
            if record.report != nil, let local = record.reportLocalExpiresAt {
                receipts[record.machineID, default: []].append((record.checkedAt, local))
            }
        }
        for completion in batch {
            guard case .check(let id, let occurrence, let result, _) = completion, case .report = result,
                  step.records.contains(where: { $0.machineID == id && $0.report != nil }) else { continue }
            let key = IdempotencyKey(machineID: id, occurrence: occurrence, trigger: settings.trigger).value
            succeededKeys[key] = succeededKeys[key] ?? now
        }
        for record in fresh {
            announcements.append(Announcement(at: now, transition: record.transition, body: WebhookPayload.body(for: record.transition)))
        }
    }

    /// The announced state of `machineID` at local instant `at` (unknown before the first).
    func announcedState(_ machineID: String, at: Int64) -> DriftState {
        var current = DriftState.unknown
        for announcement in announcements where announcement.transition.machineID == machineID {
            if announcement.at > at { break }
            current = announcement.transition.state
        }
        return current
    }

    func wasUp(throughout range: Range<Int64>) -> Bool {
        !downtimes.contains { $0.overlaps(range) } && !(downSince.map { $0 < range.upperBound } ?? false)
    }
}
