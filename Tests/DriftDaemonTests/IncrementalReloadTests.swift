import DriftCore
import Foundation
import Testing

@testable import DriftDaemon
@testable import DriftStore

/// A reload applies only the difference (`EngineState.apply`, `SchedulerCore.updateMachines`); the oracle is
/// the full rebuild it replaced (`load(_:keepMemory: true, now:)`): the same memory, the same fleet summary,
/// and the scheduler firing the same checks and expiries at the same instants for two hours afterwards.
@Suite struct IncrementalReloadTests {
    static let t0: Int64 = 1_795_954_729_000

    static func record(_ id: String, _ random: inout SplitMix64) -> MachineBookkeeping {
        let states: [DriftState] = [.inSync, .drifted, .unknown]
        let created = t0 / 1000 - Int64(random.next() % 3_000)
        return MachineBookkeeping(
            id: id, state: states[Int(random.next() % 3)], observed: true, consecutiveFailures: Int(random.next() % 4),
            lastSlot: t0 - Int64(random.next() % 7_200_000), reportCreatedAt: created, reportExpiresAt: created + 3_600,
            reportID: "drr_\(id)", reportLocalExpiresAt: (created + 3_600) * 1000, lastCheckedAt: t0 - 60_000)
    }

    @Test func applyMatchesTheFullRebuild() {
        let seed = UInt64(ProcessInfo.processInfo.environment["AKUA_RELOAD_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("IncrementalReloadTests.applyMatchesTheFullRebuild seed \(seed) (AKUA_RELOAD_SEED replays it)")
        var random = SplitMix64(seed: seed)
        let intervals: [Int64] = [60_000, 300_000, 3_600_000]
        for round in 0..<60 {
            let old: [EngineSettings.Machine] = (0..<Int(random.next() % 40 + 1)).map {
                .init(id: "mch_\($0)", name: random.next() % 2 == 0 ? nil : "n\($0)", intervalMs: intervals[Int(random.next() % 3)])
            }
            func settings(_ machines: [EngineSettings.Machine]) -> EngineSettings {
                EngineSettings(machines: machines, scheduler: SchedulerSettings(maxInFlight: 8), trigger: "schedule", subscriptions: [])
            }
            var base = EngineState(settings: settings(old), seed: seed &+ UInt64(round))
            base.load(old.filter { _ in random.next() % 3 != 0 }.map { Self.record($0.id, &random) }, keepMemory: false, now: Self.t0)

            // Some removed, some renamed, some re-timed, some added (a few with rows in the state file), reordered.
            var new = old.filter { _ in random.next() % 5 != 0 }
            for index in new.indices {
                if random.next() % 4 == 0 { new[index].name = random.next() % 2 == 0 ? nil : "renamed\(index)" }
                if random.next() % 4 == 0 { new[index].intervalMs = intervals[Int(random.next() % 3)] }
            }
            let added = (0..<Int(random.next() % 6)).map { EngineSettings.Machine(id: "mch_new_\($0)", name: nil, intervalMs: 120_000) }
            new += added
            new.shuffle(using: &random)
            let records = added.filter { _ in random.next() % 2 == 0 }.map { Self.record($0.id, &random) }
            let now = Self.t0 + Int64(random.next() % 60_000)

            var full = base
            full.settings = settings(new)
            full.load(records, keepMemory: true, now: now)
            var incremental = base
            incremental.settings = settings(new)
            incremental.apply(MachineSetChange(from: old, to: new), records: records, now: now)

            #expect(incremental.machines == full.machines, "seed \(seed) round \(round): memory")
            #expect(incremental.summary == full.summary, "seed \(seed) round \(round): summary")
            var clock = now
            for _ in 0..<400 {
                let next = full.core.nextWakeup()
                #expect(incremental.core.nextWakeup() == next, "seed \(seed) round \(round): next wake-up")
                guard let next, next != .min || clock < Self.t0 + 7_200_000 else { break }
                clock = max(clock, next == .min ? clock : next)
                guard clock < now + 7_200_000 else { break }
                let a = full.core.fire(now: clock)
                let b = incremental.core.fire(now: clock)
                // The same actions; among machines due at the same instant the order may differ (slots differ).
                #expect(Set(a) == Set(b) && a.count == b.count, "seed \(seed) round \(round): fired at \(clock)")
                for action in a {
                    guard case .check(let id, let occurrence, _, _) = action else { continue }
                    let outcome = CheckOutcome.report(createdAtMs: clock, expiresAtMs: clock + 3_600_000)
                    full.core.complete(machineID: id, occurrence: occurrence, outcome: outcome, now: clock)
                    incremental.core.complete(machineID: id, occurrence: occurrence, outcome: outcome, now: clock)
                }
                clock += 1
            }
        }
    }
}
