import DriftStore
import Foundation

/// Wakes the daemon that runs on a state file with SIGUSR1 after `akua-driftd silence` changed it, so the
/// change applies at once. The pid comes from the state file itself (the daemon records it once it traps
/// SIGUSR1, so the signal never reaches it before it can handle it), and is trusted only while that process
/// has the state file's lock file (`<state>.lock`, which the daemon keeps open and locked for its whole
/// life) open: a stale pid of a crashed daemon, reused by another process, is never signalled.
public enum SilenceWakeUp {
    public enum Outcome: Equatable, Sendable {
        case signalled(pid: Int32)
        /// No daemon runs on the state file (or none that listens for SIGUSR1 yet).
        case notRunning
        case failed(pid: Int32, reason: String)
    }

    /// Signals the daemon running on `database` (opened at its path), if any.
    public static func wake(_ database: AppDatabase, procRoot: String = "/proc") -> Outcome {
        guard let pid = (try? database.signalPID()) ?? nil, pid > 0 else { return .notRunning }
        var lock = stat()
        guard stat(database.path + ".lock", &lock) == 0 else { return .notRunning }
        switch holdsOpen(pid: pid, device: UInt64(lock.st_dev), inode: UInt64(lock.st_ino), procRoot: procRoot) {
        case true: break
        case false: return .notRunning
        case nil:
            // The process exists, but another user's descriptors cannot be read (run as root).
            return .failed(pid: pid, reason: "cannot tell whether pid \(pid) is the daemon (permission denied)")
        }
        if kill(pid, SIGUSR1) == 0 { return .signalled(pid: pid) }
        let code = errno
        if code == ESRCH { return .notRunning }
        return .failed(pid: pid, reason: String(cString: strerror(code)))
    }

    /// Whether process `pid` has a descriptor open on the file (device, inode); nil when the process exists
    /// but its descriptors cannot be read.
    static func holdsOpen(pid: Int32, device: UInt64, inode: UInt64, procRoot: String) -> Bool? {
        let directory = "\(procRoot)/\(pid)/fd"
        guard let handle = opendir(directory) else { return errno == EACCES ? nil : false }
        closedir(handle)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
        for entry in entries {
            var info = stat()
            if stat(directory + "/" + entry, &info) == 0, UInt64(info.st_ino) == inode, UInt64(info.st_dev) == device {
                return true
            }
        }
        return false
    }
}
