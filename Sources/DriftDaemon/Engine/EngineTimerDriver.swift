import Dispatch

/// Wakes the engine at a wall-clock instant. The Dispatch timer is the production driver (one timer for
/// the next due time, so an idle daemon sleeps); tests drive the same policy under a fake clock.
public protocol EngineTimerDriver: AnyObject, Sendable {
    /// Installs the callback, run on `queue` each time the timer goes off.
    func start(queue: DispatchQueue, handler: @escaping @Sendable () -> Void)
    /// Arms the timer `delayMs` from now (replacing any earlier arming); nil disarms it.
    func schedule(delayMs: Int64?)
    func cancel()
}

/// One `DispatchSourceTimer`. A wake-up in the future is rounded up to a grid of `coalesceMs` on the
/// monotonic clock, so checks due within one grid step share a wake-up (one timer, one transaction)
/// instead of costing one each at a low rate; a wake-up due now is never delayed.
public final class DispatchTimerDriver: EngineTimerDriver, @unchecked Sendable {
    private var timer: (any DispatchSourceTimer)?
    private let coalesceNs: UInt64

    /// The default grid: at most this much added to a check's start (the lag target is 250 ms).
    public static let defaultCoalesceMs = 100

    public init(coalesceMs: Int = DispatchTimerDriver.defaultCoalesceMs) {
        coalesceNs = UInt64(max(1, coalesceMs)) * 1_000_000
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
        let target = DispatchTime.now().uptimeNanoseconds + clamped * 1_000_000
        let rounded = (target + coalesceNs - 1) / coalesceNs * coalesceNs
        timer.schedule(deadline: DispatchTime(uptimeNanoseconds: rounded), leeway: .milliseconds(1))
    }

    public func cancel() {
        timer?.cancel()
        timer = nil
    }
}
