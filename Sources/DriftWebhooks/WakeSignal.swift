import Synchronization

/// Lets a sleeping loop wake up early: `wait(untilMs:)` returns at the deadline or as soon as `signal()`
/// is called (a signal that arrives while nobody waits is remembered; a spurious early return is harmless), or when the task is cancelled.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Waits at most `timeoutMs` (nil: until signalled or cancelled).
    public func wait(timeoutMs: Int64?) async {
        let timer: Task<Void, Never>? = timeoutMs.map { timeout in
            Task { [weak self] in
                guard (try? await Task.sleep(for: .milliseconds(max(0, timeout)))) != nil else { return }
                self?.signal()
            }
        }
        defer { timer?.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}
