#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// Our own `NOTIFY_SOCKET`: a unix datagram socket that timestamps every sd_notify message (READY=1,
/// RELOADING=1, STATUS=, WATCHDOG=1...) on arrival, on a dedicated thread blocked in `recv`.
final class NotifySocket: Sendable {
    struct Message: Sendable {
        /// Monotonic ns at arrival.
        var at: UInt64
        var text: String
        func has(_ assignment: String) -> Bool { text.split(separator: "\n").contains { $0 == assignment } }
        var status: String? {
            text.split(separator: "\n").first { $0.hasPrefix("STATUS=") }.map { String($0.dropFirst(7)) }
        }
    }

    let path: String
    private let fd: Int32
    private let messages = Mutex<[Message]>([])
    private let closed = Atomic<Bool>(false)

    init(path: String) throws {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("notify socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw BenchError("notify socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw BenchError("notify socket bind \(path): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var size: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        self.fd = fd
        self.path = path
        let thread = Thread { [self] in self.receiveLoop() }
        thread.name = "notify-socket"
        thread.start()
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while !closed.load(ordering: .acquiring) {
            let count = recv(fd, &buffer, buffer.count, 0)
            let now = Clocks.monotonicNs()
            guard count > 0 else { continue }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            messages.withLock { $0.append(Message(at: now, text: text)) }
        }
    }

    func close() {
        closed.store(true, ordering: .releasing)
        // The receive loop wakes within its 200 ms timeout and stops; the descriptor is released with the process.
        unlink(path)
    }

    /// Number of messages received so far (a cursor for `next`).
    var count: Int { messages.withLock { $0.count } }

    func all() -> [Message] { messages.withLock { $0 } }

    /// The first message at index >= `after` satisfying `match`, waiting up to `timeout` seconds.
    func next(after index: Int, timeout: Double, where match: (Message) -> Bool) async -> (index: Int, message: Message)? {
        let deadline = Clocks.monotonicNs() + UInt64(timeout * 1e9)
        var cursor = index
        while true {
            let snapshot = messages.withLock { Array($0.dropFirst(cursor)) }
            for (offset, message) in snapshot.enumerated() where match(message) {
                return (cursor + offset, message)
            }
            cursor += snapshot.count
            if Clocks.monotonicNs() >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
}
