#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DriftSystemd
import Foundation
import Synchronization
import Testing

/// The notifier reads NOTIFY_SOCKET / WATCHDOG_* from the process environment (as sd_notify does):
/// these tests set them for the shortest possible time, one test at a time.
@Suite("SystemdNotifier", .serialized)
struct SystemdNotifierTests {
    @Test("notification texts")
    func messages() {
        #expect(SystemdNotifier.readyMessage(status: nil) == "READY=1")
        #expect(SystemdNotifier.readyMessage(status: "watching 3 machines") == "READY=1\nSTATUS=watching 3 machines")
        #expect(SystemdNotifier.readyMessage(status: "two\nlines") == "READY=1\nSTATUS=two lines")
        #expect(
            SystemdNotifier.reloadingMessage(monotonicMicroseconds: 123_456, status: "reloading")
                == "RELOADING=1\nMONOTONIC_USEC=123456\nSTATUS=reloading")
    }

    @Test("MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds")
    func monotonic() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let ours = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        let theirs = SystemdNotifier.monotonicMicroseconds()
        #expect(theirs >= ours && theirs - ours < 5_000_000)
    }

    #if os(Linux)
    @Test("sd_notify delivers READY, STATUS, RELOADING, STOPPING and WATCHDOG to NOTIFY_SOCKET")
    func delivers() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier()
        let token = UUID().uuidString
        let sent = withEnvironment(["NOTIFY_SOCKET": socket.path]) {
            [
                notifier.isEnabled,
                notifier.ready(status: "ready \(token)"),
                notifier.status("status \(token)"),
                notifier.reloading(),
                notifier.watchdogPing(),
                notifier.stopping(status: "bye \(token)"),
            ]
        }
        #expect(sent == [true, true, true, true, true, true])
        let expected = 5
        var received: [String] = []
        while received.count < expected, let datagram = socket.receive() {
            // Other code in this process may notify too while NOTIFY_SOCKET is set: keep ours.
            if datagram.contains(token) || datagram.hasPrefix("RELOADING=1") || datagram == "WATCHDOG=1" {
                received.append(datagram)
            }
        }
        try #require(received.count == expected)
        #expect(received[0] == "READY=1\nSTATUS=ready \(token)")
        #expect(received[1] == "STATUS=status \(token)")
        let reload = received[2].split(separator: "\n")
        #expect(reload.first == "RELOADING=1")
        #expect(reload.count == 2 && reload[1].hasPrefix("MONOTONIC_USEC=") && UInt64(reload[1].dropFirst(15)) != nil)
        #expect(received[3] == "WATCHDOG=1")
        #expect(received[4] == "STOPPING=1\nSTATUS=bye \(token)")
    }
    #endif

    @Test("without NOTIFY_SOCKET every call is a no-op")
    func disabled() {
        let notifier = SystemdNotifier()
        let results = withEnvironment(["NOTIFY_SOCKET": nil]) {
            [notifier.isEnabled, notifier.ready(status: "x"), notifier.watchdogPing(), notifier.stopping()]
        }
        #expect(results == [false, false, false, false])
    }

    #if os(Linux)
    @Test("watchdogInterval reads WATCHDOG_USEC when WATCHDOG_PID is ours")
    func watchdog() {
        let notifier = SystemdNotifier()
        let ours = withEnvironment(["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": String(getpid())]) {
            notifier.watchdogInterval()
        }
        let anyPID = withEnvironment(["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": nil]) {
            notifier.watchdogInterval()
        }
        let otherPID = withEnvironment(["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"]) {
            notifier.watchdogInterval()
        }
        let none = withEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
            notifier.watchdogInterval()
        }
        #expect(ours == .seconds(20))
        #expect(anyPID == .seconds(3))
        #expect(otherPID == nil)
        #expect(none == nil)
    }
    #endif
}

private let environmentLock = Mutex<Void>(())

/// Runs `body` with environment variables set (or unset for nil) and restores them afterwards.
private func withEnvironment<T>(_ values: [String: String?], _ body: () -> T) -> T {
    environmentLock.withLock { _ in
        var saved: [String: String?] = [:]
        for (name, value) in values {
            saved[name] = getenv(name).map { String(cString: $0) }
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
        defer {
            for (name, value) in saved {
                if let value { setenv(name, value, 1) } else { unsetenv(name) }
            }
        }
        return body()
    }
}

#if os(Linux)
/// A datagram socket in a temporary directory, like the one systemd passes in NOTIFY_SOCKET.
private final class NotifySocket {
    let path: String
    private let directory: String
    private let fd: Int32

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram, or nil after 5 s without one.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    deinit {
        close(fd)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
#endif
