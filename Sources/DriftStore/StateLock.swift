#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `<state file>.lock`, held for the life of the daemon, so that a second daemon
/// on the same state file refuses to start instead of interleaving writes. The kernel drops it on exit.
public final class StateLock: Sendable {
    private let fd: Int32
    public let path: String

    public init(statePath: String) throws(StoreError) {
        path = statePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .cannotOpen(path: path, detail: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw .locked(path: statePath) }
            throw .cannotOpen(path: path, detail: String(cString: strerror(code)))
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
