import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 for wire-level tests the simulator cannot script:
/// it records each request exactly as received and answers with whatever the test's handler returns.
final class ScriptedHTTPServer: @unchecked Sendable {
    /// One request as it arrived on the socket.
    struct Request: Sendable {
        var method: String
        var target: String
        /// Header lines in order, names as sent.
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        /// The values of header `name` (case-insensitive).
        func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
    }

    /// What to do with a request.
    enum Action: Sendable {
        /// Write these bytes, then close the connection.
        case raw([UInt8])
        /// Write the head, then `chunks` chunked-encoding chunks of `chunkSize` bytes, pausing `pause` between them.
        case chunked(head: String, chunkSize: Int, chunks: Int, pause: Duration)
        /// Close without answering.
        case close
    }

    let port: Int
    private let listenFD: Int32
    private let handler: @Sendable (Request) -> Action
    private let lock = NSLock()
    private var recorded: [Request] = []
    private var stopped = false
    private var bytesWritten = 0
    private let thread: Thread

    /// Every request received so far.
    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// Response bytes successfully written so far (to show a huge body was not fully consumed).
    var written: Int {
        lock.lock()
        defer { lock.unlock() }
        return bytesWritten
    }

    init(handler: @escaping @Sendable (Request) -> Action) throws {
        self.handler = handler
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listenFD = fd
        let box = ThreadBox()
        thread = Thread { box.server?.acceptLoop() }
        box.server = self
        thread.start()
    }

    /// Base URL of this server's API root.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Stops accepting; open connections finish on their own.
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listenFD, nil, nil)
            if client < 0 { if isStopped { return } else { continue } }
            var noSigPipe: Int32 = 1
            #if canImport(Darwin)
            setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, &noSigPipe, socklen_t(MemoryLayout<Int32>.size))
            #else
            _ = noSigPipe
            #endif
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        guard let request = readRequest(fd) else { return }
        lock.lock()
        recorded.append(request)
        lock.unlock()
        switch handler(request) {
        case .close:
            return
        case .raw(let bytes):
            _ = write(fd, bytes)
        case .chunked(let head, let chunkSize, let chunks, let pause):
            guard write(fd, Array(head.utf8)) else { return }
            let chunk = Array(String(chunkSize, radix: 16).utf8) + [13, 10] + [UInt8](repeating: 0x41, count: chunkSize) + [13, 10]
            for _ in 0..<chunks {
                guard write(fd, chunk) else { return }
                if pause > .zero { Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18) }
            }
            _ = write(fd, Array("0\r\n\r\n".utf8))
        }
    }

    /// Writes everything; false when the peer went away.
    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
            lock.lock()
            bytesWritten += n
            lock.unlock()
        }
        return true
    }

    private func readRequest(_ fd: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var headEnd: Int?
        while headEnd == nil {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
            headEnd = find([13, 10, 13, 10], in: buffer)
            if buffer.count > 1 << 20 { return nil }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3 else { return nil }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        var body = Array(buffer[(headEnd! + 4)...])
        while body.count < length {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            body += chunk[0..<n]
        }
        return Request(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body)
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }

    /// A complete response with `Content-Length` and `Connection: close`.
    static func response(
        _ status: Int, _ reason: String = "X", headers: [(String, String)] = [("Content-Type", "application/json")],
        body: String
    ) -> Action {
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return .raw(Array(head.utf8) + Array(body.utf8))
    }
}

/// Lets the accept thread reach the server once `init` has finished.
private final class ThreadBox: @unchecked Sendable {
    weak var server: ScriptedHTTPServer?
}
