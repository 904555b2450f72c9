import DriftCore
import DriftDaemon
import DriftTestSupport
import Foundation

/// A seeded run of a small fleet for many virtual hours: random intervals and TTLs, truth flips, API
/// faults and outages, restarts of replica A on its state file, replica B never restarting, a skewed
/// API clock. Everything is a function of the seed, so a failure replays with `AKUA_SIM_SEED`.
final class FleetSimulation {
    struct Parameters {
        var seed: UInt64
        var hours: Int
        var faulty: Bool
    }

    static let t0: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    let parameters: Parameters
    let settings: EngineSettings
    let api: ScriptedAPI
    let replicaA: SimulatedReplica
    let replicaB: SimulatedReplica
    let endMs: Int64
    /// Local instants at which replica A is killed, with how long it stays down.
    private(set) var restartPlan: [(at: Int64, downMs: Int64)] = []
    private let dir: TemporaryDirectory
    var description: String

    init(_ parameters: Parameters) throws {
        self.parameters = parameters
        var random = SplitMix64(seed: parameters.seed)
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        let minute: Int64 = 60_000
        let count = 2 + Int(random.next() % 3)
        var machines: [EngineSettings.Machine] = []
        var truth: [String: ScriptedAPI.Truth] = [:]
        endMs = Self.t0 + Int64(parameters.hours) * 60 * minute
        for index in 0..<count {
            let id = "mch_sim\(index)"
            let interval = pick([2, 5, 15, 60]) * minute
            let ttl = max(20_000, interval * pick([1, 1, 2, 1]) / pick([1, 1, 1, 3]))
            machines.append(EngineSettings.Machine(id: id, name: "sim-\(index)", intervalMs: interval))
            var flips: [Int64] = []
            var at = Self.t0
            while at < endMs {
                // Mean time between flips: a few intervals; some flips are quick (flapping).
                at += Int64(random.next() % UInt64(6 * interval)) + 1_000
                flips.append(at)
            }
            truth[id] = ScriptedAPI.Truth(initial: pick([.inSync, .drifted]), flips: flips, ttlMs: ttl)
        }
        let timeout: Int64 = 10_000
        settings = EngineSettings(
            machines: machines,
            scheduler: SchedulerSettings(maxInFlight: 4, refreshBeforeMs: minute, catchUpWindowMs: minute, requestTimeoutMs: timeout),
            trigger: "schedule", subscriptions: [EngineSettings.Subscription(webhookID: "wh", events: Set(DriftState.allCases))],
            failingAfter: 3)
        var faults = ScriptedAPI.Faults()
        if parameters.faulty {
            faults.rate = 0.05
            var at = Self.t0
            while at < endMs {
                at += Int64(random.next() % UInt64(48 * 60 * minute))
                let length = Int64(random.next() % UInt64(90 * minute))
                if random.next() % 4 == 0 { faults.unauthorized.append(at..<(at + length)) } else { faults.outages.append(at..<(at + length)) }
                at += length
            }
        }
        let skew = Int64(random.next() % 120_000) - 60_000
        api = ScriptedAPI(seed: parameters.seed, truth: truth, faults: faults, skewMs: skew, timeoutMs: timeout)
        dir = try TemporaryDirectory("akua-sim")
        replicaA = try SimulatedReplica(name: "A", settings: settings, path: dir.file("a.sqlite"), seed: parameters.seed)
        replicaB = try SimulatedReplica(name: "B", settings: settings, path: dir.file("b.sqlite"), seed: parameters.seed &+ 7)
        var at = Self.t0 + 30 * minute
        while at < endMs - 120 * minute {
            at += Int64(random.next() % UInt64(36 * 60 * minute))
            restartPlan.append((at, Int64(random.next() % UInt64(pick([2, 20, 120]) * minute))))
        }
        let shape = machines.map { "\($0.id): interval \($0.intervalMs / 1000)s ttl \(truth[$0.id]!.ttlMs / 1000)s" }.joined(separator: ", ")
        description = "seed \(parameters.seed), \(parameters.hours) h, faulty \(parameters.faulty), api skew \(skew) ms, \(restartPlan.count) restarts; \(shape)"
    }

    /// Runs to the end of the simulated time.
    func run() throws {
        var now = Self.t0
        try replicaA.start(now: now)
        try replicaB.start(now: now)
        var plan = restartPlan[...]
        var restartAt: Int64? = nil
        while now < endMs {
            let nextKill = plan.first?.at
            var next = [replicaA.nextEvent(after: now), replicaB.nextEvent(after: now), nextKill, restartAt].compactMap { $0 }.min() ?? endMs
            next = max(now, min(next, endMs))
            now = next
            if let kill = plan.first, kill.at <= now {
                plan = plan.dropFirst()
                if replicaA.isUp {
                    replicaA.kill(now: now)
                    restartAt = now + kill.downMs
                }
            }
            if let at = restartAt, at <= now, !replicaA.isUp {
                try replicaA.start(now: now)
                restartAt = nil
            }
            try replicaA.step(now: now, api: api)
            try replicaB.step(now: now, api: api)
            if next == endMs { break }
        }
    }
}
