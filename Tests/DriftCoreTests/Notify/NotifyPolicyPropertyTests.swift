import DriftCore
import Foundation
import Testing

/// Random histories (seeded; the seed is printed): two independent runs decide the same messages with the
/// same ids, and a run killed at any decision (its uncommitted decision lost, the track reloaded from its
/// persisted JSON) then resumed sends exactly the same messages, none lost, none twice.
@Suite("Notify policy properties")
struct NotifyPolicyPropertyTests {
    enum Event: Hashable {
        case report(id: String, state: ReportState, attributes: [String])
        case expire
    }

    struct History {
        var rules: NotifyRules
        var events: [(atMs: Int64, event: Event)]
        var mutes: [Mute]  // untilMs plus a start encoded in reason ("start=...")
        var starts: [Int64]

        func mute(at now: Int64) -> Mute? {
            for (index, mute) in mutes.enumerated() where starts[index] <= now && now < mute.untilMs { return mute }
            return nil
        }
    }

    static func history(seed: UInt64) -> History {
        var rng = SplitMix64(seed: seed)
        let rules = NotifyRules(
            confirmReports: Int.random(in: 1...3, using: &rng),
            confirmForMs: [0, 120_000, 600_000].randomElement(using: &rng)!,
            repeatIntervalMs: [nil, 1_800_000, 3_600_000].randomElement(using: &rng)!,
            driftChanged: Bool.random(using: &rng),
            ignoreAttributes: Bool.random(using: &rng) ? ["memory_mb"] : [])
        var events: [(Int64, Event)] = []
        var now = PolicyRun.t0 * 1000
        var lastReportAt = now
        for index in 0..<Int.random(in: 50...250, using: &rng) {
            now += Int64.random(in: 1_000...900_000, using: &rng)
            if now - lastReportAt > 900_000 || Int.random(in: 0..<10, using: &rng) == 0 {
                events.append((now, .expire))
            } else {
                let state: ReportState = Bool.random(using: &rng) ? .drifted : .inSync
                let attributes = state == .drifted
                    ? ["cpu", "image", "memory_mb"].filter { _ in Bool.random(using: &rng) } : []
                events.append((now, .report(id: "rpt_\(index)", state: state, attributes: attributes)))
                lastReportAt = now
            }
        }
        var mutes: [Mute] = [], starts: [Int64] = []
        for _ in 0..<Int.random(in: 0...3, using: &rng) {
            let start = PolicyRun.t0 * 1000 + Int64.random(in: 0...(now - PolicyRun.t0 * 1000), using: &rng)
            starts.append(start)
            mutes.append(Mute(untilMs: start + Int64.random(in: 60_000...7_200_000, using: &rng), reason: "silence"))
        }
        return History(rules: rules, events: events, mutes: mutes, starts: starts)
    }

    /// Runs `history`, ticking at every deadline the track asks for, as the engine does. With `crashAt`,
    /// decision number `crashAt` is lost before its commit and the run restarts from the committed track.
    static func run(_ history: History, crashAt: Int? = nil) throws -> [NotifyMessage] {
        var run = PolicyRun(rules: history.rules)
        var committed = try JSONEncoder().encode(run.track)
        var committedRun = run
        var decisions = 0
        var delivered: [NotifyMessage] = []

        func step(_ input: (inout PolicyRun) -> Void) throws {
            var next = run
            next.sent = []
            input(&next)
            #expect(next.lastDeadline == next.track.deadline(rules: history.rules))
            decisions += 1
            if decisions == crashAt {
                // kill -9 before the transaction committed: memory is gone, the file holds the last commit.
                let mute = run.mute  // the world's, not the process's
                run = committedRun
                run.track = try JSONDecoder().decode(NotifyTrack.self, from: committed)
                run.mute = mute
                var again = run
                again.sent = []
                input(&again)
                next = again
            }
            delivered += next.sent
            run = next
            committed = try JSONEncoder().encode(run.track)
            committedRun = run
        }

        for (at, event) in history.events {
            while let deadline = run.track.deadline(rules: history.rules), deadline <= at {
                run.mute = history.mute(at: deadline)
                try step { $0.tick(deadline) }
            }
            // A mute that ended since the last decision is noticed at the next one (the engine ticks at its end).
            run.mute = history.mute(at: at)
            switch event {
            case .report(let id, let state, let attributes):
                try step { $0.report(id, state, at: at / 1000, attributes: attributes, nowMs: at) }
            case .expire:
                try step { $0.expire(nowMs: at) }
            }
        }
        return delivered
    }

    @Test("two runs over the same history send the same messages with the same ids; a crash anywhere loses and repeats nothing")
    func determinismAndCrashes() throws {
        let base = ProcessInfo.processInfo.environment["AKUA_NOTIFY_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        print("notify policy property seed: \(base) (AKUA_NOTIFY_SEED=\(base) replays it)")
        var rng = SplitMix64(seed: base)
        var totalMessages = 0
        for _ in 0..<40 {
            let seed = rng.next()
            let history = Self.history(seed: seed)
            let first = try Self.run(history)
            let second = try Self.run(Self.history(seed: seed))
            #expect(first == second, "seed \(seed)")
            #expect(Set(first.map(\.eventID)).count == first.count, "an id sent twice, seed \(seed)")
            totalMessages += first.count
            for _ in 0..<5 {
                let crash = Int.random(in: 1...(history.events.count + 20), using: &rng)
                let resumed = try Self.run(history, crashAt: crash)
                #expect(resumed.map(\.eventID) == first.map(\.eventID), "seed \(seed), crash at decision \(crash)")
            }
        }
        // The histories exercise the policy (not 40 silent runs).
        #expect(totalMessages > 40)
    }
}
