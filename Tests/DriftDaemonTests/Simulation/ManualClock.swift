import DriftDaemon
import Synchronization

/// A wall clock and an elapsed-time clock the test sets by hand.
final class ManualClock: EngineClock, Sendable {
    let wall = Atomic<Int64>(FleetSimulation.t0)
    let elapsed = Atomic<Int64>(1_000_000)
    func nowMs() -> Int64 { wall.load(ordering: .relaxed) }
    func elapsedMs() -> Int64? { elapsed.load(ordering: .relaxed) }
    func advance(_ ms: Int64) {
        wall.add(ms, ordering: .relaxed)
        elapsed.add(ms, ordering: .relaxed)
    }
}
