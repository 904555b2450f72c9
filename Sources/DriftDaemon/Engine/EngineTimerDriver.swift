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

/// One `DispatchSourceTimer` with a small leeway, so the kernel can coalesce wake-ups.
public final class DispatchTimerDriver: EngineTimerDriver, @unchecked Sendable {
    private var timer: (any DispatchSourceTimer)?

    public init() {}

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
        let clamped = min(max(0, delay), 86_400_000)
        // Small leeway: lets the kernel coalesce wake-ups without adding visible lag.
        let leeway = min(max(clamped / 50, 1), 20)
        timer.schedule(deadline: .now() + .milliseconds(Int(clamped)), leeway: .milliseconds(Int(leeway)))
    }

    public func cancel() {
        timer?.cancel()
        timer = nil
    }
}
