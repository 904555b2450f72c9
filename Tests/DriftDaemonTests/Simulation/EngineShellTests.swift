import AkuaAPI
import Dispatch
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import Foundation
import Synchronization
import Testing

/// A timer driver that only remembers what the engine asked for; the test fires it.
private final class ManualTimer: EngineTimerDriver, @unchecked Sendable {
    private let lock = NSLock()
    private var queue: DispatchQueue?
    private var handler: (@Sendable () -> Void)?
    private var delay: Int64?
    private var loads: [TimerLoad] = []
    func start(queue: DispatchQueue, handler: @escaping @Sendable () -> Void) {
        lock.withLock { self.queue = queue; self.handler = handler }
    }
    func schedule(delayMs: Int64?) { lock.withLock { delay = delayMs } }
    func expectLoad(_ load: TimerLoad) { lock.withLock { loads.append(load) } }
    /// The loads the engine announced, in order.
    var expectedLoads: [TimerLoad] { lock.withLock { loads } }
    func cancel() { lock.withLock { handler = nil } }
    var armedDelay: Int64? { lock.withLock { delay } }
    /// Runs the timer's handler on the engine queue and waits for it.
    func fire() {
        let (queue, handler) = lock.withLock { (self.queue, self.handler) }
        guard let queue, let handler else { return }
        queue.sync { handler() }
    }
}

/// Answers every create at once with a fresh report (one per key), on the API's clock = the wall clock.
private final class InstantSource: DriftReportSource {
    let clock: ManualClock
    let keys = Mutex<[String]>([])
    init(clock: ManualClock) { self.clock = clock }
    func createDriftReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> DriftReport {
        keys.withLock { $0.append(idempotencyKey) }
        let now = clock.nowMs() / 1000
        return DriftReport(id: "drr_\(idempotencyKey.suffix(8))", machineID: machineID, state: .inSync, etag: "e",
                           createdAt: now, startedAt: now, expiresAt: now + 600)
    }
}

/// Like `InstantSource`, but the first create waits until the test opens the gate: a check in flight
/// across a wall-clock jump.
private final class GatedSource: DriftReportSource {
    let inner: InstantSource
    let gate = Mutex<(open: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))
    let waiting = Atomic<Bool>(false)
    init(clock: ManualClock) { inner = InstantSource(clock: clock) }
    func open() {
        let waiter = gate.withLock { state -> CheckedContinuation<Void, Never>? in
            state.open = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
    func createDriftReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> DriftReport {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = gate.withLock { state -> Bool in
                if state.open { return true }
                state.waiter = continuation
                return false
            }
            waiting.store(true, ordering: .relaxed)
            if resumeNow { continuation.resume() }
        }
        return try await inner.createDriftReport(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger)
    }
}

@Suite("DriftEngine's I/O step under a fake clock and a manual timer")
struct EngineShellTests {
    static let interval: Int64 = 60_000

    /// An engine watching one machine, `mch_a`, every `interval`, on a real state file in `dir`.
    fileprivate static func engine(
        _ dir: TemporaryDirectory, source: any DriftReportSource, clock: ManualClock, timer: ManualTimer, logs: LogCapture
    ) throws -> DriftEngine {
        DriftEngine(
            database: try AppDatabase.open(path: dir.file("state.sqlite")), source: source,
            settings: EngineSettings(
                machines: [.init(id: "mch_a", name: nil, intervalMs: interval)],
                scheduler: SchedulerSettings(catchUpWindowMs: 1_000, requestTimeoutMs: 2_000), trigger: "schedule", subscriptions: []),
            clock: clock, timer: timer, logger: logs.logger(), seed: 1)
    }

    @Test("the timer driver is armed for the next check; a backward wall-clock jump is noticed, logged once, and checking goes on")
    func backwardJumpThroughTheShell() async throws {
        let dir = try TemporaryDirectory("akua-shell")
        let clock = ManualClock(), timer = ManualTimer(), logs = LogCapture()
        let source = InstantSource(clock: clock)
        let interval = Self.interval
        let engine = try Self.engine(dir, source: source, clock: clock, timer: timer, logs: logs)
        try engine.start()
        defer { Task { await engine.stop(graceMs: 0) } }
        /// Moves the clock to the armed wake-up, fires, and waits until the check's result is recorded.
        func step() async throws {
            let delay = try #require(timer.armedDelay)
            #expect(delay <= interval + 1_000, "armed \(delay) ms ahead")
            clock.advance(delay)
            let before = source.keys.withLock { $0.count }
            timer.fire()
            try await eventually(timeout: .seconds(5), "the check ran and its result was recorded") {
                source.keys.withLock { $0.count } > before && engine.snapshot().core.nextDue(machineID: "mch_a") != nil
            }
        }
        for _ in 0..<3 { try await step() }
        // The wall clock goes back an hour while elapsed time goes on.
        clock.wall.add(-3_600_000, ordering: .relaxed)
        for _ in 0..<3 { try await step() }
        let jumps = logs.records.filter { "\($0.metadata["message_id"] ?? "")" == JournalMessageID.clockJumped }
        #expect(jumps.count == 1, "logged \(jumps.count) times")
        let keys = source.keys.withLock { $0 }
        #expect(keys.count == 6)
        #expect(Set(keys).count == keys.count, "a key was reused after the jump: \(keys)")
    }

    @Test("the engine tells the timer driver the fleet's load at start and after a reload: rate, shortest interval, refresh lead (they size the wake-up grid)")
    func loadAtStartAndReload() async throws {
        let dir = try TemporaryDirectory("akua-shell")
        let clock = ManualClock(), timer = ManualTimer(), logs = LogCapture()
        let engine = try Self.engine(dir, source: InstantSource(clock: clock), clock: clock, timer: timer, logs: logs)
        try engine.start()
        defer { Task { await engine.stop(graceMs: 0) } }
        // One machine every 60 s, the default refresh lead of 1 min.
        #expect(timer.expectedLoads.count == 1)
        let first = try #require(timer.expectedLoads.first)
        #expect(abs(first.checksPerSecond - 1.0 / 60) < 1e-9)
        #expect(first.shortestIntervalMs == 60_000 && first.refreshBeforeMs == 60_000)
        // 1,000 machines every second, plus one every 500 ms placed in the middle: 1,002 checks a second.
        var machines = (0..<1_000).map { EngineSettings.Machine(id: "mch_\($0)", name: nil, intervalMs: 1_000) }
        machines.insert(.init(id: "mch_fast", name: nil, intervalMs: 500), at: 500)
        try engine.reload(
            settings: EngineSettings(
                machines: machines,
                scheduler: SchedulerSettings(refreshBeforeMs: 5_000, catchUpWindowMs: 1_000, requestTimeoutMs: 2_000),
                trigger: "schedule", subscriptions: []),
            source: nil)
        #expect(timer.expectedLoads.count == 2)
        let second = try #require(timer.expectedLoads.last)
        #expect(abs(second.checksPerSecond - 1_002) < 1e-6)
        #expect(second.shortestIntervalMs == 500 && second.refreshBeforeMs == 5_000)
        // A reload to no machines: no rate and no interval.
        try engine.reload(
            settings: EngineSettings(
                machines: [], scheduler: SchedulerSettings(catchUpWindowMs: 1_000, requestTimeoutMs: 2_000),
                trigger: "schedule", subscriptions: []),
            source: nil)
        #expect(timer.expectedLoads.last == TimerLoad(checksPerSecond: 0, shortestIntervalMs: nil, refreshBeforeMs: 60_000))
    }

    @Test("a check in flight across a forward wall-clock jump: its result is placed once in the new time, and checking goes on at the rhythm")
    func checkInFlightAcrossAJump() async throws {
        let dir = try TemporaryDirectory("akua-shell-jump")
        let clock = ManualClock(), timer = ManualTimer(), logs = LogCapture()
        let source = GatedSource(clock: clock)
        let interval = Self.interval
        let engine = try Self.engine(dir, source: source, clock: clock, timer: timer, logs: logs)
        try engine.start()
        defer { Task { await engine.stop(graceMs: 0) } }
        // The first check starts and hangs on the wire.
        clock.advance(try #require(timer.armedDelay))
        timer.fire()
        try await eventually(timeout: .seconds(5), "the first check is on the wire") { source.waiting.load(ordering: .relaxed) }
        // The wall clock steps forward an hour while it is in flight; then its answer arrives. No timer fires
        // in between, so the batch that records it is the first to see the new time.
        clock.wall.add(3_600_000, ordering: .relaxed)
        source.open()
        try await eventually(timeout: .seconds(5), "the first result is recorded") {
            engine.snapshot().core.nextDue(machineID: "mch_a") != nil
        }
        // Two more rounds: each armed wake-up is within an interval, and each one checks the machine. Had the
        // jump been applied again at the next wake-up, the machine's next check would be an hour away.
        for round in 1...2 {
            let delay = try #require(timer.armedDelay)
            #expect(delay <= interval + 1_000, "round \(round): armed \(delay) ms ahead")
            clock.advance(delay)
            let before = source.inner.keys.withLock { $0.count }
            timer.fire()
            try await eventually(timeout: .seconds(5), "round \(round): the machine is checked at its slot") {
                source.inner.keys.withLock { $0.count } > before && engine.snapshot().core.nextDue(machineID: "mch_a") != nil
            }
            let due = try #require(engine.snapshot().core.nextDue(machineID: "mch_a"))
            #expect(due - clock.nowMs() <= interval, "round \(round): next check \(due - clock.nowMs()) ms ahead")
        }
        let jumps = logs.records.filter { "\($0.metadata["message_id"] ?? "")" == JournalMessageID.clockJumped }
        #expect(jumps.count == 1, "logged \(jumps.count) times")
    }
}
