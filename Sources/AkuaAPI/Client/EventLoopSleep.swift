import NIOCore
import Synchronization

/// A sleep on a NIO event loop timer. Unlike `Task.sleep` on Linux, whose Dispatch timer stays armed
/// after the sleeping task is cancelled, a cancelled event loop timer is removed: a request that finishes
/// before its timeout leaves nothing behind to wake the process up later (an idle daemon stays idle).
enum EventLoopSleep {
    private enum State {
        case idle
        case scheduled(Scheduled<Void>)
        case cancelled
    }

    /// Returns at `deadline`, or throws `CancellationError` as soon as the calling task is cancelled.
    static func sleep(until deadline: NIODeadline, on eventLoop: any EventLoop) async throws {
        let state = Mutex<State>(.idle)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let scheduled = eventLoop.scheduleTask(deadline: deadline) {}
                scheduled.futureResult.whenComplete { result in
                    switch result {
                    case .success: continuation.resume()
                    case .failure: continuation.resume(throwing: CancellationError())
                    }
                }
                let alreadyCancelled = state.withLock { current -> Bool in
                    if case .cancelled = current { return true }
                    current = .scheduled(scheduled)
                    return false
                }
                if alreadyCancelled { scheduled.cancel() }
            }
        } onCancel: {
            let scheduled = state.withLock { current -> Scheduled<Void>? in
                defer { current = .cancelled }
                if case .scheduled(let scheduled) = current { return scheduled }
                return nil
            }
            scheduled?.cancel()
        }
    }
}
