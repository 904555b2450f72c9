import AkuaAPI
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// One machine under virtual time, for the edges of issue 9 (each test fails on the engine before it).
private final class OneMachine {
    static let t0 = FleetSimulation.t0
    let api: ScriptedAPI
    let replica: SimulatedReplica
    let dir: TemporaryDirectory
    var now: Int64 = OneMachine.t0

    init(intervalMs: Int64, ttlMs: Int64, flips: [Int64] = [], faults: ScriptedAPI.Faults = .init(), skewMs: Int64 = 0,
         catchUpMs: Int64 = 5_000, refreshBeforeMs: Int64 = 1_000, subscriptions: Bool = true, checkFailingWebhook: Bool = false) throws {
        api = ScriptedAPI(
            seed: 9, truth: ["mch_a": .init(initial: .inSync, flips: flips, ttlMs: ttlMs)], faults: faults,
            skewMs: skewMs, timeoutMs: 2_000)
        dir = try TemporaryDirectory("akua-edge")
        let settings = EngineSettings(
            machines: [.init(id: "mch_a", name: "web-1", intervalMs: intervalMs)],
            scheduler: SchedulerSettings(maxInFlight: 4, refreshBeforeMs: refreshBeforeMs, catchUpWindowMs: catchUpMs, requestTimeoutMs: 2_000),
            trigger: "schedule",
            subscriptions: (subscriptions ? [.init(webhookID: "wh", events: Set(DriftState.allCases))] : [])
                + (checkFailingWebhook ? [.init(webhookID: "wh-checks", events: [], checkFailing: true)] : []),
            failingAfter: 3)
        replica = try SimulatedReplica(name: "A", settings: settings, path: dir.file("state.sqlite"), seed: 1)
        try replica.start(now: now)
    }

    func run(for duration: Int64) throws {
        let end = now + duration
        while true {
            let next = replica.nextEvent(after: now) ?? end
            if next > end { break }
            now = next
            try replica.step(now: now, api: api)
        }
        now = end
    }

    var announced: [Transition] { replica.announcements.map(\.transition) }
    func logs(_ messageID: String) -> [EngineLogRecord] {
        replica.logs.filter { $0.metadata["message_id"].map { "\($0)" } == messageID }
    }
}

@Suite("Edges: restarts, expiry races, odd reports, 404s, TTLs")
struct EdgeCaseTests {
    @Test("1. a restart after the reports expired announces nothing when nothing changed")
    func restartIsNotDrift() throws {
        let m = try OneMachine(intervalMs: 10_000, ttlMs: 10_000)
        try m.run(for: 60_000)
        #expect(m.announced.map(\.state) == [.inSync])
        m.replica.kill(now: m.now)
        m.now += 12_000
        try m.replica.start(now: m.now)
        try m.run(for: 40_000)
        #expect(m.announced.map(\.state) == [.inSync], "announced \(m.announced.map(\.state))")
    }

    @Test("1. the stale report turns unknown only after the catch-up check had its chance")
    func staleThenUnknownWhenTheAPIIsDown() throws {
        let m = try OneMachine(intervalMs: 10_000, ttlMs: 10_000, faults: .init(outages: [OneMachine.t0 + 40_000..<OneMachine.t0 + 3_600_000]))
        try m.run(for: 30_000)
        m.replica.kill(now: m.now)
        m.now += 60_000
        try m.replica.start(now: m.now)
        let restart = m.now
        try m.run(for: 120_000)
        let unknown = try #require(m.replica.announcements.first { $0.transition.state == .unknown })
        let grace = m.replica.settings.scheduler.expiryGraceMs
        #expect(unknown.at >= restart + grace, "unknown \(unknown.at - restart) ms after the restart; grace \(grace)")
        #expect(unknown.at <= restart + grace + 1_000)
    }

    @Test("2. a fresh report in the same batch beats the expiry, whatever the order")
    func freshReportBeatsExpiry() throws {
        for expiryFirst in [true, false] {
            var state = EngineState(settings: EngineSettings(
                machines: [.init(id: "mch_a", name: nil, intervalMs: 60_000)], scheduler: SchedulerSettings(), trigger: "schedule",
                subscriptions: []), seed: 1)
            let t = OneMachine.t0
            let old = DriftReport(id: "drr_old", machineID: "mch_a", state: .inSync, etag: "e", createdAt: t / 1000 - 60, startedAt: t / 1000 - 60, expiresAt: t / 1000)
            state.machines["mch_a"] = EngineMachine(name: nil, state: .inSync, observed: true, failures: 0, report: ReportLife(id: "drr_old", localExpiresAtMs: t))
            let fresh = DriftReport(id: "drr_new", machineID: "mch_a", state: .inSync, etag: "f", createdAt: t / 1000, startedAt: t / 1000, expiresAt: t / 1000 + 60)
            let check = EngineCompletion.check(machineID: "mch_a", occurrence: Occurrence(kind: .scheduled, at: t), result: .report(fresh, serverDateMs: t), receivedAtMs: t)
            let expiry = EngineCompletion.expiry(machineID: "mch_a", expiresAtMs: t)
            let step = state.reduce(expiryFirst ? [expiry, check] : [check, expiry], now: t + 1) { _ in old }
            #expect(step.records.allSatisfy { $0.transition == nil }, "expiry first: \(expiryFirst)")
        }
    }

    @Test("2. an expiry waits for the check in flight, at most one request timeout")
    func expiryWaitsForTheCheckInFlight() {
        var core = SchedulerCore(settings: SchedulerSettings(catchUpWindowMs: 0, requestTimeoutMs: 2_000))
        let t = OneMachine.t0
        let phase = SlotMath.phase(machineID: "mch_a", intervalMs: 10_000)
        let slot = SlotMath.slotStart(containing: t, intervalMs: 10_000, phaseMs: phase) + 10_000
        core.setMachines([MachinePlan(id: "mch_a", intervalMs: 10_000, lastSlotMs: slot - 10_000, reportCreatedAtMs: slot - 10_000,
                                      reportExpiresAtMs: slot, stateKnown: true)], now: t)
        let actions = core.fire(now: slot)
        #expect(actions.contains { if case .check = $0 { true } else { false } })
        #expect(!actions.contains { if case .expire = $0 { true } else { false } }, "expired while its check was in flight")
        #expect(core.fire(now: slot + 1_999).isEmpty)
        #expect(core.fire(now: slot + 2_000).contains { if case .expire = $0 { true } else { false } }, "waits at most one timeout")
    }

    @Test("3. an already expired report is not stored, logged once, and the machine still expires")
    func alreadyExpiredReportOnArrival() throws {
        let m = try OneMachine(intervalMs: 20_000, ttlMs: 30_000)
        try m.run(for: 25_000)
        #expect(m.announced.map(\.state) == [.inSync])
        let t = m.now
        var state = m.replica.state!
        let bad = DriftReport(id: "drr_bad", machineID: "mch_a", state: .drifted, etag: "e", createdAt: t / 1000, startedAt: t / 1000, expiresAt: t / 1000 - 5)
        let occurrence = Occurrence(kind: .scheduled, at: t)
        _ = state.core.fire(now: t)
        let step = state.reduce([.check(machineID: "mch_a", occurrence: occurrence, result: .report(bad, serverDateMs: t), receivedAtMs: t)], now: t) { _ in nil }
        #expect(step.records.allSatisfy { $0.report == nil && $0.transition == nil })
        #expect(step.logs.filter { "\($0.metadata["message_id"] ?? "")" == JournalMessageID.invalidReport }.count == 1)
        _ = state.commit(step)
        #expect(state.machines["mch_a"]?.report != nil, "the previous report's expiry is still tracked")
    }

    @Test("3. a stream of expired reports turns the machine unknown once the last good one expires")
    func expiredReportsDoNotFreezeTheState() throws {
        let m = try OneMachine(intervalMs: 10_000, ttlMs: 15_000, faults: .init(rate: 0))
        try m.run(for: 12_000)
        // From now on every create answers with a report that expired before it arrived.
        m.api.faults.rate = 1
        try m.run(for: 60_000)
        #expect(m.announced.last?.state == .unknown, "announced \(m.announced.map(\.state))")
    }

    @Test("4. clock skew: expiry follows the report's own lifetime on the local clock; warned once", arguments: [Int64(3_600_000), -3_600_000])
    func clockSkew(skew: Int64) throws {
        let m = try OneMachine(intervalMs: 10_000, ttlMs: 15_000, skewMs: skew)
        try m.run(for: 120_000)
        #expect(m.announced.map(\.state) == [.inSync], "skew \(skew): \(m.announced.map(\.state))")
        #expect(m.logs(JournalMessageID.clockSkew).count == 1)
        #expect(m.replica.state?.fleet.skewMs.map { abs($0 - skew) <= 1_000 } == true)
    }

    @Test("6. TTL equal to the interval: one create per interval")
    func oneCreatePerInterval() throws {
        let m = try OneMachine(intervalMs: 10_000, ttlMs: 10_000, refreshBeforeMs: 60_000)
        try m.run(for: 42_000)
        let creates = m.api.createsByMachine["mch_a"] ?? 0
        #expect(creates >= 4 && creates <= 5, "\(creates) creates in 42 s")
        try m.run(for: 3_600_000)
        let perHour = (m.api.createsByMachine["mch_a"] ?? 0) - creates
        #expect(perHour <= 361, "\(perHour) creates in an hour at a 10 s interval")
        #expect(!m.announced.contains { $0.state == .unknown })
    }

    @Test("6. refresh keys come from the report alone: the same report gives the same key at any time")
    func refreshKeyFromReport() {
        func refreshOccurrence(completedAt now: Int64) -> Occurrence? {
            var core = SchedulerCore(settings: SchedulerSettings(refreshBeforeMs: 60_000, catchUpWindowMs: 0))
            let t = OneMachine.t0
            core.setMachines([MachinePlan(id: "mch_a", intervalMs: 3_600_000)], now: t)
            for action in core.fire(now: t + 3_600_000) {
                guard case .check(_, let occurrence, _, _) = action else { continue }
                core.complete(machineID: "mch_a", occurrence: occurrence, outcome: .report(createdAtMs: t, expiresAtMs: t + 600_000), now: now)
            }
            var time = now
            while time < t + 600_000 {
                time += 1_000
                for action in core.fire(now: time) {
                    if case .check(_, let occurrence, _, _) = action, occurrence.kind == .refresh { return occurrence }
                }
            }
            return nil
        }
        let t = OneMachine.t0
        let early = refreshOccurrence(completedAt: t + 1_000), late = refreshOccurrence(completedAt: t + 500_000)
        #expect(early != nil)
        #expect(early == late)
    }

    @Test("7. a complete body that breaks the schema is not retried with the same key; logged once per streak")
    func badBodyNotRetried() throws {
        let m = try OneMachine(intervalMs: 10_000, ttlMs: 60_000, faults: .init(rate: 0))
        try m.run(for: 12_000)
        m.api.faults.rate = 1
        try m.run(for: 50_000)
        var perKey: [String: Int] = [:]
        for request in m.replica.sent { perKey[request.key, default: 0] += 1 }
        // Faults are drawn per attempt; sticky bad bodies (invalid or expired) must be sent once.
        let invalid = m.logs(JournalMessageID.invalidReport)
        #expect(invalid.count <= 1, "logged \(invalid.count) times in one streak")
        #expect(m.replica.state?.machines["mch_a"]?.state == .inSync, "the previous state is kept until it expires")
    }

    @Test("8. arbitrary report bodies through the engine never crash it and never store an invalid report", arguments: [UInt64(1), 2, 3])
    func arbitraryReports(seed: UInt64) async throws {
        print("arbitrary reports: seed \(seed)")
        // CPU-bound: on a thread of its own, so the other suites' async tests keep the pool.
        let problems = try await onOwnThread { () -> [String] in
            var problems: [String] = []
            var random = SplitMix64(seed: seed)
            var state = EngineState(settings: EngineSettings(
                machines: [.init(id: "mch_a", name: nil, intervalMs: 60_000)], scheduler: SchedulerSettings(), trigger: "schedule",
                subscriptions: [.init(webhookID: "wh", events: Set(DriftState.allCases))]), seed: seed)
            state.core.setMachines([MachinePlan(id: "mch_a", intervalMs: 60_000)], now: OneMachine.t0)
            state.machines["mch_a"] = EngineMachine(name: nil, state: .unknown, observed: false, failures: 0)
            let extremes: [Int64] = [0, 1, 253_402_300_799, 253_402_300_798, OneMachine.t0 / 1000, OneMachine.t0 / 1000 + 1]
            var now = OneMachine.t0
            for index in 0..<5_000 {
                now += Int64(random.next() % 120_000)
                func timestamp() -> Int64 {
                    random.next() % 3 == 0 ? extremes[Int(random.next() % UInt64(extremes.count))] : now / 1000 + Int64(random.next() % 7200) - 3600
                }
                let report = DriftReport(
                    id: "drr_\(index)", machineID: "mch_a", state: random.next() % 2 == 0 ? .inSync : .drifted, etag: "e",
                    createdAt: timestamp(), startedAt: timestamp(), expiresAt: timestamp(),
                    delta: ["n": .integer(Int64(bitPattern: random.next()))])
                let server = random.next() % 4 == 0 ? nil : Optional(now + Int64(random.next() % 600_000) - 300_000)
                for action in state.core.fire(now: now) {
                    switch action {
                    case .check(let id, let occurrence, _, _):
                        let step = state.reduce([.check(machineID: id, occurrence: occurrence, result: .report(report, serverDateMs: server), receivedAtMs: now)], now: now) { _ in nil }
                        for record in step.records {
                            guard let stored = record.report else { continue }
                            if stored.expiresAt <= stored.createdAt { problems.append("stored \(stored.id), which expires before it was created") }
                            if (record.reportLocalExpiresAt ?? 0) <= now { problems.append("stored \(stored.id), already expired locally") }
                        }
                        _ = state.commit(step)
                    case .expire(let id, let at):
                        _ = state.commit(state.reduce([.expiry(machineID: id, expiresAtMs: at)], now: now) { _ in nil })
                    }
                }
            }
            return problems
        }
        #expect(problems.isEmpty, "seed \(seed): \(problems.prefix(5))")
    }

    @Test("11. checks failing after failing_after failures, journaled once, and once when recovered")
    func checksFailing() throws {
        let m = try OneMachine(
            intervalMs: 10_000, ttlMs: 60_000, faults: .init(outages: [OneMachine.t0 + 15_000..<OneMachine.t0 + 200_000]),
            checkFailingWebhook: true)
        try m.run(for: 100_000)
        #expect(m.replica.state?.summary.failing == 1, "STATUS= counts the failing machine")
        try m.run(for: 300_000)
        #expect(m.logs(JournalMessageID.checksFailing).count == 1)
        #expect(m.logs(JournalMessageID.checksRecovered).count == 1)
        #expect(m.replica.state?.summary.failing == 0)
        // Only the webhook that lists check_failing gets the two notices, in order, each once.
        let notices = try m.replica.database.dueDeliveries(webhook: "wh-checks", now: .max, limit: 100)
        let types = notices.compactMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }.compactMap { $0["type"] as? String }
        // The outbox hands out a machine's events oldest first, one at a time: the failing notice, then (counted) the recovery.
        #expect(types == ["machine.drift.check_failing"])
        #expect(try m.replica.database.deliveryCounts(webhook: "wh-checks")["pending"] == 2)
        let states = try m.replica.database.dueDeliveries(webhook: "wh", now: .max, limit: 100)
        #expect(states.allSatisfy { String(decoding: $0.body, as: UTF8.self).contains("machine.drift.transition") })
    }

    @Test("12. 401 pauses the whole queue: one probe at a time, logged once per streak")
    func fleetPause() throws {
        var core = SchedulerCore(settings: SchedulerSettings(maxInFlight: 8, catchUpWindowMs: 0))
        let t = OneMachine.t0
        core.setMachines((0..<20).map { MachinePlan(id: "mch_\($0)", intervalMs: 60_000) }, now: t)
        core.pauseFleet(untilMs: t + 120_000)
        var started = 0
        var time = t
        while time < t + 119_000 {
            time += 1_000
            started += core.fire(now: time).filter { if case .check = $0 { true } else { false } }.count
        }
        #expect(started == 0, "checks started during the pause")
        let probe = core.fire(now: t + 120_000).filter { if case .check = $0 { true } else { false } }
        #expect(probe.count == 1, "one probe after the pause, got \(probe.count)")
        core.resumeFleet()
        #expect(core.fire(now: t + 120_001).filter { if case .check = $0 { true } else { false } }.count == 7)

        let m = try OneMachine(intervalMs: 10_000, ttlMs: 600_000, faults: .init(unauthorized: [OneMachine.t0 + 15_000..<OneMachine.t0 + 300_000]))
        try m.run(for: 400_000)
        #expect(m.logs(JournalMessageID.fleetPaused).count == 1, "logged \(m.logs(JournalMessageID.fleetPaused).count) times in one 401 streak")
    }

    @Test("15. a backward clock jump of an hour does not stop checking, and reuses no key")
    func backwardClockJump() {
        var core = SchedulerCore(settings: SchedulerSettings(refreshBeforeMs: 60_000, catchUpWindowMs: 10_000))
        let t = OneMachine.t0, interval: Int64 = 60_000
        core.setMachines([MachinePlan(id: "mch_a", intervalMs: interval)], now: t)
        var keys = Set<String>()
        var checks: [Int64] = []
        var now = t
        var jumpAt = Int64.max
        func step(to end: Int64) {
            while now < end {
                now += 500
                for action in core.fire(now: now) {
                    guard case .check(_, let occurrence, _, _) = action else { continue }
                    let key = IdempotencyKey(machineID: "mch_a", occurrence: occurrence, trigger: "schedule").value
                    #expect(keys.insert(key).inserted, "key reused: \(occurrence)")
                    checks.append(now)
                    // The API's clock never jumped: reports carry real time.
                    let real = now - (now < jumpAt ? 0 : -3_600_000)
                    core.complete(machineID: "mch_a", occurrence: occurrence, outcome: .report(createdAtMs: real, expiresAtMs: real + 600_000, localExpiresAtMs: now + 600_000), now: now)
                }
            }
        }
        step(to: t + 10 * interval)
        jumpAt = now
        now -= 3_600_000
        core.clockJumped(byMs: -3_600_000, now: now)
        let after = checks.count
        step(to: now + 10 * interval)
        #expect(checks.count - after >= 9, "\(checks.count - after) checks in the 10 intervals after the jump")
        let gaps = zip(checks.dropFirst(after), checks.dropFirst(after + 1)).map { $1 - $0 }
        #expect(gaps.allSatisfy { $0 <= interval + 10_000 + 1_000 }, "gaps \(gaps)")
    }
}
