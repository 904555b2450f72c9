import NIOCore
import Synchronization

/// Parks requests chosen by the `hang` fault until the simulator shuts down (or the waiting task
/// is cancelled), so `shutdown()` never blocks on them.
final class HangRegistry: Sendable {
    private struct Storage {
        var closed = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelledEarly: Set<Int> = []
    }

    private let storage = Mutex(Storage())

    /// Suspends until `releaseAll()`, task cancellation, or `closeFuture` completing (the connection died).
    func wait(closeFuture: EventLoopFuture<Void>? = nil) async {
        let id = storage.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        closeFuture?.whenComplete { [self] _ in release(id: id) }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = storage.withLock { s -> Bool in
                    if s.closed || s.cancelledEarly.remove(id) != nil { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            release(id: id)
        }
    }

    /// Wakes one parked request (or makes its upcoming wait return at once).
    private func release(id: Int) {
        let continuation = storage.withLock { s -> CheckedContinuation<Void, Never>? in
            if let waiting = s.waiters.removeValue(forKey: id) { return waiting }
            if !s.closed, id <= s.nextID { s.cancelledEarly.insert(id) }
            return nil
        }
        continuation?.resume()
    }

    /// Number of requests currently parked.
    var count: Int {
        storage.withLock { $0.waiters.count }
    }

    /// Wakes every parked request; later `wait()` calls return immediately.
    func releaseAll() {
        let waiters = storage.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.closed = true
            let all = Array(s.waiters.values)
            s.waiters.removeAll()
            return all
        }
        for waiter in waiters { waiter.resume() }
    }
}
