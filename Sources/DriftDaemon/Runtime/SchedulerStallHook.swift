import DriftCore
import DriftSystemd
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A test-only way to wedge the scheduler of a real `akua-driftd run` process, so that the lifecycle tests
/// can check that the systemd watchdog is withheld while the scheduler makes no progress, and fed again
/// after. (SIGSTOP would not do: it stops the watchdog timer as well.)
///
/// Enabled only by the environment variable `AKUA_DRIFTD_TEST_STALL_FILE=PATH`, which the service unit
/// never sets. While PATH exists, every reading of the engine's clock blocks. The engine reads its clock
/// on its serial queue (timer callbacks, recording, and the watchdog's `isMakingProgress`), so the engine
/// queue is wedged exactly as by a hung call inside it. Removing PATH releases it. The hook notifies
/// `X_AKUA_DRIFTD_TEST_STALL=stalled` when the first reading blocks and `=resumed` when the last one is
/// released (systemd ignores unknown `X_` assignments), so a test can wait for both events.
/// The webhook dispatcher keeps the unwrapped clock.
final class SchedulerStallHook: EngineClock {
    static let environmentVariable = "AKUA_DRIFTD_TEST_STALL_FILE"

    let base: any EngineClock
    let path: String
    let notifier: SystemdNotifier
    private let blocked = Mutex<Int>(0)

    init(base: any EngineClock, path: String, notifier: SystemdNotifier) {
        self.base = base
        self.path = path
        self.notifier = notifier
    }

    /// The clock to give the engine: `base`, or the stallable wrapper when the environment asks for it.
    static func engineClock(_ base: any EngineClock, environment: [String: String], notifier: SystemdNotifier) -> any EngineClock {
        guard let path = environment[environmentVariable], !path.isEmpty else { return base }
        return SchedulerStallHook(base: base, path: path, notifier: notifier)
    }

    func nowMs() -> Int64 {
        if access(path, F_OK) == 0 { waitWhileStalled() }
        return base.nowMs()
    }

    func elapsedMs() -> Int64? { base.elapsedMs() }

    private func waitWhileStalled() {
        if blocked.withLock({ $0 += 1; return $0 == 1 }) {
            _ = notifier.notify("X_AKUA_DRIFTD_TEST_STALL=stalled")
        }
        while access(path, F_OK) == 0 { usleep(10_000) }
        if blocked.withLock({ $0 -= 1; return $0 == 0 }) {
            _ = notifier.notify("X_AKUA_DRIFTD_TEST_STALL=resumed")
        }
    }
}
