/// `[metrics] listen`: `HOST:PORT` (an IPv4 address, `[IPv6]:PORT` or `localhost`) or an absolute unix
/// socket path. Parsing only; binding is the metrics listener's.
public enum MetricsListenAddress: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Parses `text`, or says what is wrong with it.
    public static func parse(_ text: String) -> Result<MetricsListenAddress, ParseError> {
        if text.hasPrefix("/") {
            guard !text.hasSuffix("/") else { return .failure(ParseError(message: "a unix socket path must name a file")) }
            guard text.utf8.count <= 107 else { return .failure(ParseError(message: "a unix socket path is at most 107 bytes")) }
            return .success(.unix(path: text))
        }
        guard let colon = text.lastIndex(of: ":") else {
            return .failure(ParseError(message: "expected HOST:PORT (e.g. 127.0.0.1:9464) or an absolute unix socket path"))
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return .failure(ParseError(message: "the host is missing (write 127.0.0.1:PORT for loopback)")) }
        guard let port = Int(portText), (1...65535).contains(port) else {
            return .failure(ParseError(message: "the port must be 1-65535, got \"\(portText)\""))
        }
        return .success(.tcp(host: host, port: port))
    }

    /// Loopback addresses (127.0.0.0/8, ::1, localhost) and unix sockets are local; anything else is remote.
    public var isLocal: Bool {
        switch self {
        case .unix: return true
        case .tcp(let host, _):
            if host == "localhost" || host == "::1" { return true }
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): path
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    public struct ParseError: Error, Sendable, Equatable {
        public var message: String
    }
}
