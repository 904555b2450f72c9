import DriftCore
import DriftDaemon
import Foundation
import Testing

/// Deterministic simulation: the engine's whole policy, a real state file, thousands of virtual hours
/// per seed, with an oracle of the true state timeline. `AKUA_SIM_SEED=N` replays one seed,
/// `AKUA_SIM_HOURS=H` lengthens runs; every failure names its seed.
@Suite("Deterministic fleet simulation")
struct FleetSimulationTests {
    static var seeds: [UInt64] {
        if let text = ProcessInfo.processInfo.environment["AKUA_SIM_SEED"], let seed = UInt64(text) { return [seed] }
        return [1, 2, 3, 4]
    }

    static var hours: Int {
        ProcessInfo.processInfo.environment["AKUA_SIM_HOURS"].flatMap(Int.init) ?? 250
    }

    @Test("no false, missed or duplicate announcement; one create per occurrence; replicas agree", arguments: seeds)
    func simulate(seed: UInt64) async throws {
        let hours = Self.hours
        // CPU-bound for seconds: on a thread of its own, so the other suites' async tests keep the pool.
        let (failures, summary, announced) = try await onOwnThread { () throws -> ([String], String, Int) in
            let simulation = try FleetSimulation(.init(seed: seed, hours: hours, faulty: seed % 2 == 1))
            print("fleet simulation: \(simulation.description) (replay: AKUA_SIM_SEED=\(seed))")
            try simulation.run()
            let a = simulation.replicaA, b = simulation.replicaB
            let summary = "A \(a.announcements.count) announcements, \(a.sent.count) requests, \(a.restarts) restarts; B \(b.announcements.count) announcements, \(b.sent.count) requests; creates \(simulation.api.createsByMachine.values.reduce(0, +))"
            return (SimulationOracle(simulation).violations(), summary, a.announcements.count)
        }
        for failure in failures.prefix(20) {
            Issue.record("AKUA_SIM_SEED=\(seed): \(failure)")
        }
        print("fleet simulation seed \(seed): \(summary)")
        #expect(announced > 0, "seed \(seed): the run announced nothing, so it checked nothing")
    }
}

/// Runs `body` on a new thread and waits for it without holding a cooperative-pool thread.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// Checks a finished simulation against the truth and the promises in the README.
struct SimulationOracle {
    let simulation: FleetSimulation

    init(_ simulation: FleetSimulation) { self.simulation = simulation }

    func violations() -> [String] {
        var found: [String] = []
        let replicas = [simulation.replicaA, simulation.replicaB]
        let faulty = simulation.parameters.faulty
        let settings = simulation.settings
        let grace = settings.scheduler.expiryGraceMs
        for replica in replicas {
            // Memory and file agree at every restart.
            found += replica.memoryMismatches.map { "\(replica.name): after a restart \($0)" }
            for machine in settings.machines {
                let mine = replica.announcements.filter { $0.transition.machineID == machine.id }
                let receipts = replica.receipts[machine.id] ?? []
                for announcement in mine {
                    let t = announcement.transition
                    if t.state == .unknown, t.cause == .expired {
                        // Never while a received report is still valid on the local clock.
                        if let last = receipts.last(where: { $0.at <= announcement.at }), last.localExpiresAt > announcement.at {
                            found.append("\(replica.name) \(machine.id): unknown at \(announcement.at) while its report is valid until \(last.localExpiresAt)")
                        }
                        if !faulty {
                            found.append("\(replica.name) \(machine.id): unknown at \(announcement.at) although the API never failed; " + trace(replica, machine.id, around: announcement.at))
                        }
                    }
                    if t.cause == .report, let report = t.report {
                        let truth = simulation.api.state(of: machine.id, atAPI: report.createdAt * 1000)
                        if truth.driftState != t.state, report.createdAt * 1000 % 1000 == 0 {
                            // The report's state is the truth at its creation (to the second).
                            let before = simulation.api.state(of: machine.id, atAPI: report.createdAt * 1000 - 1000)
                            let after = simulation.api.state(of: machine.id, atAPI: report.createdAt * 1000 + 1000)
                            if before.driftState != t.state, after.driftState != t.state {
                                found.append("\(replica.name) \(machine.id): announced \(t.state) from report \(report.id) but the truth was \(truth)")
                            }
                        }
                    }
                    if t.previous == t.state { found.append("\(replica.name) \(machine.id): transition to the same state \(t.state)") }
                }
                // A restart never re-announces: consecutive announcements differ in state.
                for (earlier, later) in zip(mine, mine.dropFirst()) where earlier.transition.state == later.transition.state {
                    found.append("\(replica.name) \(machine.id): \(later.transition.state) announced twice (at \(earlier.at) and \(later.at))")
                }
                if !faulty {
                    found += missedStates(replica, machine: machine, grace: grace)
                    found += createBudget(machine: machine)
                }
            }
            // No key is ever reused for another occurrence, nor sent again after it succeeded.
            var occurrenceByKey: [String: String] = [:]
            for request in replica.sent {
                let occurrence = "\(request.machineID)/\(request.occurrence)"
                if let other = occurrenceByKey[request.key], other != occurrence {
                    found.append("\(replica.name): key \(request.key) used for \(other) and \(occurrence)")
                }
                occurrenceByKey[request.key] = occurrence
                if let at = replica.succeededKeys[request.key], request.at > at {
                    found.append("\(replica.name): key \(request.key) sent again at \(request.at) after it succeeded at \(at)")
                }
            }
        }
        found += replicaAgreement()
        return found
    }

    /// What led up to `at`: the replica's downtimes, requests and receipts for the machine nearby.
    private func trace(_ replica: SimulatedReplica, _ machineID: String, around at: Int64) -> String {
        let window = (at - 4 * 3_600_000)...(at + 60_000)
        var lines: [String] = []
        for down in replica.downtimes where window.contains(down.lowerBound) { lines.append("down \(down.lowerBound - at)..\(down.upperBound - at)") }
        for request in replica.sent where request.machineID == machineID && window.contains(request.at) {
            lines.append("sent \(request.occurrence.kind.rawValue)@\(request.occurrence.at - at) at \(request.at - at)\(replica.succeededKeys[request.key].map { " ok at \($0 - at)" } ?? "")")
        }
        for receipt in replica.receipts[machineID] ?? [] where window.contains(receipt.at) { lines.append("report at \(receipt.at - at) valid to \(receipt.localExpiresAt - at)") }
        return "trace (ms relative): " + lines.joined(separator: "; ")
    }

    /// Every true state that held long enough while the replica was up was announced.
    private func missedStates(_ replica: SimulatedReplica, machine: EngineSettingsMachine, grace: Int64) -> [String] {
        guard let truth = simulation.api.truth[machine.id] else { return [] }
        var found: [String] = []
        // The machine's announcements in time order, searched by binary search.
        let timeline = replica.announcements.filter { $0.transition.machineID == machine.id }.map { ($0.at, $0.transition.state) }
        func firstIndex(atOrAfter time: Int64) -> Int {
            var low = 0, high = timeline.count
            while low < high {
                let mid = (low + high) / 2
                if timeline[mid].0 < time { low = mid + 1 } else { high = mid }
            }
            return low
        }
        let skew = simulation.api.skewMs
        var start = FleetSimulation.t0
        var state = truth.initial
        let bound = machine.intervalMs + simulation.api.timeoutMs + 2_000
        for flip in truth.flips + [simulation.endMs + skew] {
            let from = start - skew, to = flip - skew
            if to - from > bound + 1_000, to < simulation.endMs, replica.wasUp(throughout: (from - 2 * machine.intervalMs - grace)..<to) {
                var index = firstIndex(atOrAfter: from)
                var seen = index > 0 && timeline[index - 1].1 == state.driftState
                while !seen, index < timeline.count, timeline[index].0 <= to + 1_000 {
                    seen = timeline[index].1 == state.driftState
                    index += 1
                }
                if !seen {
                    found.append("\(replica.name) \(machine.id): missed \(state) that held from \(from) to \(to) (\((to - from) / 1000) s)")
                }
            }
            start = flip
            state = state == .inSync ? .drifted : .inSync
        }
        return found
    }

    /// Steady state costs one create per interval (TTL ≥ interval) or about one per TTL (TTL < interval).
    private func createBudget(machine: EngineSettingsMachine) -> [String] {
        guard let ttl = simulation.api.truth[machine.id]?.ttlMs else { return [] }
        let duration = simulation.endMs - FleetSimulation.t0
        let refreshBefore = simulation.settings.scheduler.refreshBeforeMs
        var bound = Double(duration) / Double(machine.intervalMs)
        if ttl < machine.intervalMs {
            bound += Double(duration) / Double(ttl - min(refreshBefore, ttl / 2))
        }
        let restarts = simulation.replicaA.restarts
        let allowed = Int(bound * 1.02) + 2 * restarts + 3
        let creates = simulation.api.createsByMachine[machine.id] ?? 0
        let hours = Double(duration) / 3_600_000
        if creates > allowed {
            return ["\(machine.id): \(creates) creates in \(Int(hours)) h (\(String(format: "%.2f", Double(creates) / hours)) per hour), bound \(allowed)"]
        }
        return []
    }

    /// The replicas announce the same changes with the same event ids and byte-identical bodies.
    private func replicaAgreement() -> [String] {
        var found: [String] = []
        let a = simulation.replicaA.announcements, b = simulation.replicaB.announcements
        let bodiesB = Dictionary(b.map { ($0.transition.eventID, $0.body) }, uniquingKeysWith: { first, _ in first })
        for announcement in a {
            if let other = bodiesB[announcement.transition.eventID], other != announcement.body {
                found.append("event \(announcement.transition.eventID): replicas sent different bodies")
            }
        }
        if !simulation.parameters.faulty {
            // Until A's first restart both replicas saw the same API through the same keys: the same events.
            let firstKill = simulation.restartPlan.first?.at ?? simulation.endMs
            let idsA = a.filter { $0.at < firstKill - 3_600_000 }.map(\.transition.eventID)
            let idsB = b.filter { $0.at < firstKill - 3_600_000 }.map(\.transition.eventID)
            if idsA != idsB {
                let onlyA = Set(idsA).subtracting(idsB).count, onlyB = Set(idsB).subtracting(idsA).count
                let describe: (SimulatedReplica.Announcement) -> String = {
                    "\($0.transition.machineID) \($0.transition.previous)→\($0.transition.state) report \($0.transition.report?.id ?? "-") at \($0.at)"
                }
                let onlyInA = a.filter { $0.at < firstKill - 3_600_000 && !idsB.contains($0.transition.eventID) }.prefix(3).map(describe)
                let onlyInB = b.filter { $0.at < firstKill - 3_600_000 && !idsA.contains($0.transition.eventID) }.prefix(3).map(describe)
                found.append("replicas announced different events before A's first restart: \(onlyA) only in A (\(onlyInA)), \(onlyB) only in B (\(onlyInB))")
            }
        }
        return found
    }
}

typealias EngineSettingsMachine = EngineSettings.Machine
