import Dispatch

/// Wakes the engine at a wall-clock instant. The Dispatch timer is the production driver (one timer for
/// the next due time, so an idle daemon sleeps); tests drive the same policy under a fake clock.
public protocol EngineTimerDriver: AnyObject, Sendable {
    /// Installs the callback, run on `queue` each time the timer goes off.
    func start(queue: DispatchQueue, handler: @escaping @Sendable () -> Void)
    /// Arms the timer `delayMs` from now (replacing any earlier arming); nil disarms it.
    func schedule(delayMs: Int64?)
    func cancel()
    /// The load the config makes (rate, shortest interval, refresh lead), so a driver can size its
    /// coalescing to the fleet. Called on the engine's queue at start and after each reload.
    func expectLoad(_ load: TimerLoad)
}

extension EngineTimerDriver {
    /// A driver that does not coalesce ignores the load.
    public func expectLoad(_ load: TimerLoad) {}
}

/// What a config asks of the timer: how many checks come due per second, and the shortest periods a
/// late wake-up must stay small against (the shortest interval and the refresh lead).
public struct TimerLoad: Sendable, Hashable {
    /// Σ 1/interval over the machines (refreshes of short-lived reports not counted).
    public var checksPerSecond: Double
    /// The shortest machine interval; nil with no machines.
    public var shortestIntervalMs: Int64?
    /// `refresh_before_expiry`: how long before expiry a report is refreshed (0: at expiry).
    public var refreshBeforeMs: Int64

    public init(checksPerSecond: Double, shortestIntervalMs: Int64?, refreshBeforeMs: Int64) {
        self.checksPerSecond = checksPerSecond
        self.shortestIntervalMs = shortestIntervalMs
        self.refreshBeforeMs = refreshBeforeMs
    }
}

/// One `DispatchSourceTimer`. A wake-up in the future is rounded up to a grid on the monotonic clock, so
/// checks due within one grid step share a wake-up (one timer, one transaction, one burst of requests)
/// instead of costing one each at a low rate; a wake-up due now is never delayed. The step is the time in
/// which about `checksPerWakeup` checks come due, at most `coalesceMs` (1 s), 1% of the shortest interval
/// and a tenth of the refresh lead: 1 s for 100,000 machines at 1 h, 32 ms at 1,000 checks/s, 10 ms for
/// machines checked every second. Engine thread only (all calls come from the engine's queue).
public final class DispatchTimerDriver: EngineTimerDriver, @unchecked Sendable {
    private var timer: (any DispatchSourceTimer)?
    private let maxCoalesceMs: Int
    private var coalesceNs: UInt64

    /// The longest step: at most this much added to a check's start.
    public static let defaultCoalesceMs = 1_000
    /// Checks a wake-up should find due on average (each wake-up costs about as much as five checks).
    public static let checksPerWakeup = 32.0

    public init(coalesceMs: Int = DispatchTimerDriver.defaultCoalesceMs) {
        maxCoalesceMs = max(1, coalesceMs)
        coalesceNs = UInt64(maxCoalesceMs) * 1_000_000
    }

    /// The grid step for a fleet that makes `checksPerSecond` checks due: between 1 ms and `maxMs`.
    public static func stepMs(checksPerSecond: Double, maxMs: Int) -> Int {
        guard checksPerSecond.isFinite, checksPerSecond > 0 else { return max(1, maxMs) }
        let ms = (checksPerWakeup * 1000 / checksPerSecond).rounded(.up)
        return ms >= Double(maxMs) ? max(1, maxMs) : max(1, Int(ms))
    }

    /// The grid step for `load`: the rate's step, bounded by `maxMs`, 1% of the shortest interval and a
    /// tenth of the refresh lead, so lateness stays small against every period the config sets.
    public static func stepMs(for load: TimerLoad, maxMs: Int) -> Int {
        var limit = Int64(max(1, maxMs))
        if let shortest = load.shortestIntervalMs { limit = min(limit, shortest / 100) }
        if load.refreshBeforeMs > 0 { limit = min(limit, load.refreshBeforeMs / 10) }
        return stepMs(checksPerSecond: load.checksPerSecond, maxMs: Int(max(1, limit)))
    }

    /// `delayMs` (> 0) after `nowNs`, rounded up to the next multiple of `stepNs` on the monotonic clock.
    public static func deadlineNs(nowNs: UInt64, delayMs: UInt64, stepNs: UInt64) -> UInt64 {
        let target = nowNs + delayMs * 1_000_000
        return (target + stepNs - 1) / stepNs * stepNs
    }

    public func expectLoad(_ load: TimerLoad) {
        coalesceNs = UInt64(Self.stepMs(for: load, maxMs: maxCoalesceMs)) * 1_000_000
    }

    public func start(queue: DispatchQueue, handler: @escaping @Sendable () -> Void) {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler(handler: handler)
        self.timer = timer
        timer.activate()
    }

    public func schedule(delayMs: Int64?) {
        guard let timer else { return }
        guard let delay = delayMs else {
            timer.schedule(deadline: .distantFuture)
            return
        }
        let clamped = UInt64(min(max(0, delay), 86_400_000))
        guard clamped > 0 else {
            timer.schedule(deadline: .now(), leeway: .milliseconds(1))
            return
        }
        let deadline = Self.deadlineNs(nowNs: DispatchTime.now().uptimeNanoseconds, delayMs: clamped, stepNs: coalesceNs)
        timer.schedule(deadline: DispatchTime(uptimeNanoseconds: deadline), leeway: .milliseconds(1))
    }

    public func cancel() {
        timer?.cancel()
        timer = nil
    }
}
