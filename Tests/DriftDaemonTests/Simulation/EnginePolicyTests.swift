import AkuaAPI
import Dispatch
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import DriftWebhooks
import Foundation
import Synchronization
import Testing

/// A timer driver that remembers when the engine asked to be woken (on the fake clock); the test fires it.
private final class PolicyTimer: EngineTimerDriver, @unchecked Sendable {
    private let lock = NSLock()
    private let clock: ManualClock
    private var queue: DispatchQueue?
    private var handler: (@Sendable () -> Void)?
    private var wakeup: Int64?
    init(clock: ManualClock) { self.clock = clock }
    func start(queue: DispatchQueue, handler: @escaping @Sendable () -> Void) { lock.withLock { self.queue = queue; self.handler = handler } }
    func schedule(delayMs: Int64?) { lock.withLock { wakeup = delayMs.map { clock.nowMs() + $0 } } }
    func cancel() { lock.withLock { handler = nil; wakeup = nil } }
    /// Unix ms of the armed wake-up.
    var armedAt: Int64? { lock.withLock { wakeup } }
    func fire() {
        let (queue, handler) = lock.withLock { (self.queue, self.handler) }
        guard let queue, let handler else { return }
        queue.sync { handler() }
    }
}

/// An API stand-in the test steers: each machine's state and differing attributes, a fixed expiry, or failure.
private final class SteeredSource: DriftReportSource {
    struct Steering {
        var states: [String: (ReportState, [String])] = [:]
        var failing = false
        /// Unix s: every report expires then (at least a second after its creation); nil: 10 minutes after it.
        var expiresAt: Int64?
        var issued: [String: [DriftReport]] = [:]
    }

    let clock: ManualClock
    let steering = Mutex(Steering())
    init(clock: ManualClock) { self.clock = clock }

    func set(_ machine: String, _ state: ReportState, _ attributes: [String] = []) {
        steering.withLock { $0.states[machine] = (state, attributes) }
    }

    func issued(_ machine: String) -> [DriftReport] { steering.withLock { $0.issued[machine] ?? [] } }

    func createDriftReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> DriftReport {
        let now = clock.nowMs() / 1000
        let result: Result<DriftReport, AkuaAPIError> = steering.withLock { steering in
            if steering.failing { return .failure(.transport("connection refused")) }
            let (state, attributes) = steering.states[machineID] ?? (.inSync, [])
            let count = steering.issued[machineID]?.count ?? 0
            let delta: [String: JSONValue]? = state == .drifted
                ? Dictionary(uniqueKeysWithValues: attributes.map { ($0, JSONValue.string("x")) }) : nil
            let report = DriftReport(
                id: "drr_\(machineID)_\(count)", machineID: machineID, state: state, etag: "e\(count)", createdAt: now,
                startedAt: now, expiresAt: max(now + 1, steering.expiresAt ?? now + 600), delta: delta)
            steering.issued[machineID, default: []].append(report)
            return .success(report)
        }
        return try result.get()
    }
}

/// One engine on a state file under the fake clock, driven wake-up by wake-up.
private final class PolicyWorld {
    static let interval: Int64 = 60_000
    static let webhook = "wh_policy"
    static let webhookName = "ops"
    let dir: TemporaryDirectory
    let clock = ManualClock()
    let source: SteeredSource
    let logs = LogCapture()
    let machines: [String]
    let rules: NotifyRules
    private(set) var timer: PolicyTimer
    private(set) var database: AppDatabase
    private(set) var engine: DriftEngine
    private var retired: [DriftEngine] = []

    init(_ name: String, machines: [String] = ["mch_a"], rules: NotifyRules) throws {
        dir = try TemporaryDirectory(name)
        source = SteeredSource(clock: clock)
        timer = PolicyTimer(clock: clock)
        self.machines = machines
        self.rules = rules
        database = try AppDatabase.open(path: dir.file("state.sqlite"))
        engine = Self.engine(database, source, clock, timer, logs, machines, rules)
        try engine.start()
    }

    static func engine(
        _ database: AppDatabase, _ source: SteeredSource, _ clock: ManualClock, _ timer: PolicyTimer, _ logs: LogCapture,
        _ machines: [String], _ rules: NotifyRules
    ) -> DriftEngine {
        DriftEngine(
            database: database, source: source,
            settings: EngineSettings(
                machines: machines.map { .init(id: $0, name: "name-\($0)", intervalMs: interval) },
                scheduler: SchedulerSettings(catchUpWindowMs: 1_000, requestTimeoutMs: 2_000), trigger: "schedule",
                subscriptions: [.init(webhookID: webhook, events: Set(DriftState.allCases), name: webhookName, rules: rules)]),
            clock: clock, timer: timer, logger: logs.logger(), seed: 7)
    }

    /// kill -9 and start again on the same file: the old engine is left as it was (never fired again, never
    /// flushed), a new one reads the state file.
    func restart() throws {
        timer.cancel()
        retired.append(engine)
        timer = PolicyTimer(clock: clock)
        database = try AppDatabase.open(path: dir.file("state.sqlite"))
        engine = Self.engine(database, source, clock, timer, logs, machines, rules)
        try engine.start()
    }

    func stop() async {
        await engine.stop(graceMs: 0)
    }

    /// Fires every wake-up the engine arms up to `target` (unix ms), waiting for each one's checks to be recorded.
    func run(until target: Int64) async throws {
        while let wakeup = timer.armedAt, wakeup <= target {
            clock.advance(max(0, wakeup - clock.nowMs()))
            timer.fire()
            try await settle()
        }
        clock.advance(target - clock.nowMs())
    }

    func run(for ms: Int64) async throws { try await run(until: clock.nowMs() + ms) }

    /// Waits until no check is in flight: the scheduler counts a check done only once its result was reduced
    /// and written.
    func settle() async throws {
        let engine = self.engine
        let clock = ContinuousClock(), deadline = clock.now + .seconds(10)
        // A bounded wait for an observable condition, polled finely (checks answer at once).
        while engine.snapshot().core.inFlight > 0 {
            if clock.now >= deadline {
                Issue.record("timed out waiting until every check's result is recorded")
                throw HarnessError("checks still in flight")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        // Work the queue already holds (a flush queued by a refresh) runs before this returns.
        _ = engine.snapshot()
    }

    func deliveries() throws -> [(eventID: String, machineID: String, body: [UInt8])] {
        try database.deliveries(webhook: Self.webhook)
    }

    func json(_ body: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }
}

/// The spec's ids, written out from the shared design (not through `NotifyEventID`).
private enum SpecID {
    static func reminder(_ transition: String, _ n: Int) -> String {
        "evt_" + StableHash.sha256Hex([transition, "reminder", String(n)], length: 32)
    }
    static func group(_ webhook: String, _ bucket: Int64) -> String {
        "evt_" + StableHash.sha256Hex([webhook, "group", String(bucket)], length: 32)
    }
}

@Suite("Notification policy in the engine (fake clock, real state file)", .serialized)
struct EnginePolicyTests {
    fileprivate typealias W = PolicyWorld

    @Test("confirm = 3 across real check completions: one message after the third drifted report, with the first one's transition id")
    func confirmation() async throws {
        let world = try W("akua-policy-confirm", rules: NotifyRules(confirmReports: 3))
        try await world.run(for: 3 * W.interval + 1_000)
        #expect(try world.deliveries().isEmpty, "the first observation (in sync) is not sent")
        world.source.set("mch_a", .drifted, ["cpu"])
        try await world.run(for: W.interval)
        try await world.run(for: W.interval)
        #expect(try world.deliveries().isEmpty, "announced before three reports agreed")
        let pending = try world.database.pendingNotifications()["mch_a"]
        #expect(pending?.state == .drifted)
        try await world.run(for: W.interval)
        let first = try #require(world.source.issued("mch_a").first { $0.state == .drifted })
        let expected = Transition.eventID(machineID: "mch_a", reportID: first.id, previous: .inSync, state: .drifted)
        #expect(try world.deliveries().map(\.eventID) == [expected])
        #expect(try world.database.pendingNotifications().isEmpty)
        await world.stop()
    }

    @Test("kill -9 inside a confirmation window: the restarted engine announces once, nothing lost, nothing repeated")
    func confirmationAcrossRestart() async throws {
        let world = try W("akua-policy-confirm-restart", rules: NotifyRules(confirmReports: 3))
        try await world.run(for: 2 * W.interval + 1_000)
        world.source.set("mch_a", .drifted, ["cpu"])
        try await world.run(for: 2 * W.interval)
        #expect(try world.deliveries().isEmpty)
        try world.restart()
        try await world.run(for: W.interval)
        let first = try #require(world.source.issued("mch_a").first { $0.state == .drifted })
        let expected = Transition.eventID(machineID: "mch_a", reportID: first.id, previous: .inSync, state: .drifted)
        #expect(try world.deliveries().map(\.eventID) == [expected])
        try await world.run(for: 3 * W.interval)
        #expect(try world.deliveries().map(\.eventID) == [expected], "repeated or announced again")
        await world.stop()
    }

    @Test("a reminder: due at the transition's timestamp + repeat_interval, numbered, journaled with its MESSAGE_ID")
    func reminder() async throws {
        let world = try W("akua-policy-reminder", rules: NotifyRules(repeatIntervalMs: 600_000))
        try await world.run(for: W.interval + 1_000)
        world.source.set("mch_a", .drifted, ["cpu"])
        try await world.run(for: W.interval)
        let drifted = try world.deliveries()
        #expect(drifted.count == 1)
        let transitionID = try #require(drifted.first?.eventID)
        let report = try #require(world.source.issued("mch_a").first { $0.state == .drifted })
        let due = report.createdAt * 1000 + 600_000
        try await world.run(until: due - 1)
        #expect(try world.deliveries().count == 1, "a reminder before it was due")
        try await world.run(until: due + 1_000)
        let all = try world.deliveries()
        #expect(all.map(\.eventID) == [transitionID, SpecID.reminder(transitionID, 1)])
        let body = try world.json(try #require(all.last?.body))
        #expect(body["type"] as? String == "machine.drift.reminder")
        let data = try #require(body["data"] as? [String: Any])
        #expect(data["reminder"] as? Int == 1 && data["transition_event_id"] as? String == transitionID)
        let journaled = world.logs.records.filter { $0.metadata["message_id"] == JournalMessageID.reminder }
        #expect(journaled.count == 1)
        await world.stop()
    }

    @Test("many machines turning unknown at once are one group message; kill -9 inside the group window loses and repeats nothing")
    func groupOfUnknowns() async throws {
        let machines = (0..<20).map { "mch_\($0)" }
        var bodies: [[UInt8]] = []
        for restart in [false, true] {
            let world = try W("akua-policy-group-\(restart)", machines: machines, rules: NotifyRules(groupWaitMs: 300_000))
            // Every report expires at the same instant: one minute into an aligned five-minute window.
            let bucket = (FleetSimulation.t0 / 300_000 + 2) * 300_000
            world.source.steering.withLock { $0.expiresAt = (bucket + 60_000) / 1000 }
            try await world.run(for: 2 * W.interval)
            #expect(try world.deliveries().isEmpty, "first observations in sync are not sent")
            world.source.steering.withLock { $0.failing = true }
            try await world.run(until: bucket + 120_000)
            #expect(try world.deliveries().isEmpty, "sent before the window ended")
            if restart { try world.restart() }
            try await world.run(until: bucket + 300_000 + 1_000)
            let sent = try world.deliveries()
            #expect(sent.map(\.eventID) == [SpecID.group(W.webhookName, bucket)])
            let body = try world.json(try #require(sent.first?.body))
            #expect(body["type"] as? String == "machine.drift.group")
            let data = try #require(body["data"] as? [String: Any])
            let events = try #require(data["events"] as? [[String: Any]])
            #expect(data["count"] as? Int == 20 && events.count == 20)
            let states = events.compactMap { ($0["data"] as? [String: Any])?["state"] as? String }
            #expect(states == Array(repeating: "unknown", count: 20))
            #expect(Set(events.compactMap { ($0["data"] as? [String: Any])?["machine_id"] as? String }) == Set(machines))
            try await world.run(for: 600_000)
            #expect(try world.deliveries().count == 1, "the group was sent again")
            bodies.append(try #require(sent.first?.body))
            await world.stop()
        }
        #expect(bodies[0] == bodies[1], "a restart inside the window changed the group's bytes")
    }

    @Test("a silence: the drift is journaled with DRIFT_SILENCED=1 and not sent; when it ends the current state is sent")
    func silenceEnds() async throws {
        let world = try W("akua-policy-silence", rules: NotifyRules())
        try await world.run(for: W.interval + 1_000)
        let now = world.clock.nowMs()
        try world.database.addSilence(
            machineIDs: ["mch_a"], startsAtMs: now, endsAtMs: now + 300_000, reason: "deploy", createdBy: "test", createdAtMs: now)
        world.engine.refreshSilences()
        world.source.set("mch_a", .drifted, ["image"])
        try await world.run(for: W.interval)
        #expect(try world.deliveries().isEmpty, "sent while silenced")
        let journaled = world.logs.records.filter { $0.metadata["drift_state"] == "drifted" && $0.metadata["message_id"] == JournalMessageID.drifted }
        #expect(journaled.count == 1)
        #expect(journaled.first?.metadata["drift_silenced"] == "1")
        #expect(journaled.first?.metadata["drift_silence_reason"]?.contains("deploy") == true)
        try await world.run(until: now + 300_000 + 1_000)
        let report = try #require(world.source.issued("mch_a").first { $0.state == .drifted })
        #expect(try world.deliveries().map(\.eventID)
                == [Transition.eventID(machineID: "mch_a", reportID: report.id, previous: .inSync, state: .drifted)])
        await world.stop()
    }

    @Test("a silence removed early (SIGUSR1 → refreshSilences): the change it held back is sent at once, under the transition's id")
    func silenceRemoved() async throws {
        let world = try W("akua-policy-silence-removed", rules: NotifyRules())
        try await world.run(for: W.interval + 1_000)
        let now = world.clock.nowMs()
        let silence = try world.database.addSilence(
            machineIDs: nil, startsAtMs: now, endsAtMs: now + 3_600_000, reason: "maintenance", createdBy: nil, createdAtMs: now)
        world.engine.refreshSilences()
        world.source.set("mch_a", .drifted, ["image"])
        try await world.run(for: 2 * W.interval)
        #expect(try world.deliveries().isEmpty, "sent while silenced")
        try world.database.removeSilence(id: silence.id, atMs: world.clock.nowMs())
        world.engine.refreshSilences()
        try await world.settle()
        let report = try #require(world.source.issued("mch_a").first { $0.state == .drifted })
        #expect(try world.deliveries().map(\.eventID)
                == [Transition.eventID(machineID: "mch_a", reportID: report.id, previous: .inSync, state: .drifted)])
        try await world.run(for: 2 * W.interval)
        #expect(try world.deliveries().count == 1, "sent twice")
        await world.stop()
    }
}
