#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The service manager's side of the notification protocol, for tests and benchmarks: a unix datagram
/// socket to pass as `NOTIFY_SOCKET` to a child process, which timestamps every `sd_notify` message
/// (READY=1, RELOADING=1, STATUS=, WATCHDOG=1, STOPPING=1...) with CLOCK_MONOTONIC on arrival, on a
/// dedicated thread blocked in `recv`.
///
/// The daemon never uses it; it lives next to `SystemdNotifier` so the benchmark harness (drift-bench)
/// and the test suites share one implementation.
public final class NotifyListener: Sendable {
    public struct Message: Sendable {
        /// CLOCK_MONOTONIC nanoseconds at arrival.
        public var at: UInt64
        /// The raw datagram: newline-separated `KEY=value` assignments.
        public var text: String

        public init(at: UInt64, text: String) {
            self.at = at
            self.text = text
        }

        /// Whether the message contains exactly this assignment, e.g. `has("READY=1")`.
        public func has(_ assignment: String) -> Bool { text.split(separator: "\n").contains { $0 == assignment } }

        /// The value of `KEY=` in the message, if assigned.
        public func value(of key: String) -> String? {
            let prefix = key + "="
            return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }

        public var status: String? { value(of: "STATUS") }
    }

    public struct SocketError: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    private let fd: Int32
    private let messages = Mutex<[Message]>([])
    private let closed = Atomic<Bool>(false)

    /// Binds a datagram socket at `path` (an existing file there is replaced) and starts receiving.
    public init(path: String) throws {
        unlink(path)
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { throw SocketError(description: "notify socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            closeDescriptor(fd)
            throw SocketError(description: "notify socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            closeDescriptor(fd)
            throw SocketError(description: "notify socket bind \(path): \(reason)")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var size: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        self.path = path
        let thread = Thread { [self] in self.receiveLoop() }
        thread.name = "notify-listener"
        thread.start()
    }

    /// CLOCK_MONOTONIC in nanoseconds (the clock of `Message.at`).
    public static func monotonicNs() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while !closed.load(ordering: .acquiring) {
            let count = recv(fd, &buffer, buffer.count, 0)
            let now = Self.monotonicNs()
            guard count > 0 else { continue }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            messages.withLock { $0.append(Message(at: now, text: text)) }
        }
        closeDescriptor(fd)
    }

    /// Stops receiving and removes the socket file; the receive thread closes the descriptor within
    /// its 200 ms receive timeout. Messages received so far stay readable. Call it when done: the
    /// receive thread keeps the listener alive until then.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        unlink(path)
    }

    /// Number of messages received so far (a cursor for `next`).
    public var count: Int { messages.withLock { $0.count } }

    public func all() -> [Message] { messages.withLock { $0 } }

    /// Messages from index `from` on.
    public func messages(from index: Int) -> [Message] { messages.withLock { Array($0.dropFirst(index)) } }

    /// The first message at index >= `after` satisfying `match`, waiting up to `timeout` seconds.
    public func next(after index: Int, timeout: Double, where match: (Message) -> Bool) async -> (index: Int, message: Message)? {
        let deadline = Self.monotonicNs() + UInt64(max(0, timeout) * 1e9)
        var cursor = index
        while true {
            let snapshot = messages.withLock { Array($0.dropFirst(cursor)) }
            for (offset, message) in snapshot.enumerated() where match(message) {
                return (cursor + offset, message)
            }
            cursor += snapshot.count
            if Self.monotonicNs() >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
}

private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
