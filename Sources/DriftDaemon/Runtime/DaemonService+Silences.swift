import DriftCore
import DriftStore
import Foundation

/// SIGUSR1 from `akua-driftd silence`: the silences changed in the state file, apply them now.
extension DaemonService {
    /// Records this pid in the state file for `akua-driftd silence` (see `SilenceWakeUp`).
    func publishSignalPID() {
        guard let database = current.withLock({ $0?.database }) else { return }
        do {
            try database.setSignalPID(getpid())
        } catch {
            logger.warning("cannot record the pid for `akua-driftd silence` in the state file: \(error)")
        }
    }

    func withdrawSignalPID() {
        guard let database = current.withLock({ $0?.database }) else { return }
        try? database.setSignalPID(nil)
    }

    /// Re-reads the silence table (off the cooperative pool: SQLite blocks) and has the engine apply it.
    func refreshSilences() async {
        guard let running = current.withLock({ $0 }) else { return }
        let now = clock.nowMs()
        let logger = self.logger
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global(qos: .utility).async {
                running.engine.refreshSilences()
                do {
                    let stored = try running.database.silences(atMs: now)
                    let active = stored.filter { $0.isActive(atMs: now) }
                    var text = "silences re-read (SIGUSR1): \(active.count) active"
                    if !active.isEmpty { text += " (\(active.map(\.silence.id).joined(separator: ", ")))" }
                    if stored.count > active.count { text += ", \(stored.count - active.count) to come" }
                    logger.notice("\(text)", metadata: ["silences_active": "\(active.count)"])
                } catch {
                    logger.warning("SIGUSR1: cannot re-read the silences: \(error)")
                }
                continuation.resume()
            }
        }
    }
}
