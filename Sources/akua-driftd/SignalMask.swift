#if canImport(Glibc)
import Glibc
#endif

/// A parent may start us with SIGTERM/SIGINT/SIGHUP/SIGUSR1 blocked (Foundation's `Process` does); unblock
/// them so that stop, reload and silence (`akua-driftd silence`) requests are delivered.
enum SignalMask {
    static func unblockLifecycleSignals() {
        #if canImport(Glibc)
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1] { sigaddset(&set, signal) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        #endif
    }
}
