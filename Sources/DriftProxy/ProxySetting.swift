import AsyncHTTPClient
import Foundation

/// Why a proxy setting from the environment is unusable; the message never contains credentials.
public struct ProxySettingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

/// The proxy for one target host, resolved from the environment like curl and Go do; shared by the Akua API
/// client and the webhook dispatcher so both honour the same variables the same way.
///
/// `https_proxy`/`HTTPS_PROXY` for an https base URL, `http_proxy`/`HTTP_PROXY` for http (lower case wins);
/// no proxy when the host matches `no_proxy`/`NO_PROXY` or is a loopback address. Proxy URLs may be
/// `http://[user:pass@]host[:port]` (CONNECT tunnel) or `socks5://host[:port]`.
public struct ProxySetting: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case http
        case socks5
    }

    public var kind: Kind
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?

    /// Never includes the credentials.
    public var description: String {
        "\(kind == .http ? "http" : "socks5")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// The proxy for `targetHost` under `environment`, nil for a direct connection.
    public static func from(
        environment: [String: String], targetScheme: String, targetHost: String
    ) throws(ProxySettingError) -> ProxySetting? {
        let names = targetScheme == "https" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
        guard let raw = names.lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else { return nil }
        let noProxy = environment["no_proxy"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["NO_PROXY"] ?? ""
        if bypasses(host: targetHost, noProxy: noProxy) { return nil }
        return try parse(raw)
    }

    /// Parses a proxy URL; a missing scheme means `http://`.
    public static func parse(_ raw: String) throws(ProxySettingError) -> ProxySetting {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let withScheme = text.contains("://") ? text : "http://" + text
        guard let components = URLComponents(string: withScheme), let scheme = components.scheme?.lowercased(),
              let host = components.host.map(trimBrackets), !host.isEmpty else {
            throw ProxySettingError("the proxy setting is not a valid URL")
        }
        let kind: Kind
        switch scheme {
        case "http": kind = .http
        case "socks5", "socks5h": kind = .socks5
        default: throw ProxySettingError("unsupported proxy scheme \"\(String(scheme.unicodeScalars.filter { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }.prefix(16).map(Character.init)))\" (use http or socks5)")
        }
        let port = components.port ?? (kind == .http ? 80 : 1080)
        guard (1...65535).contains(port) else { throw ProxySettingError("the proxy port is out of range") }
        let username = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        if kind == .socks5, username != nil {
            throw ProxySettingError("SOCKS proxies with credentials are not supported")
        }
        return ProxySetting(kind: kind, host: host, port: port, username: username, password: password)
    }

    /// True when `host` must be reached directly: loopback, or matched by a `NO_PROXY` entry.
    ///
    /// Entries are comma or space separated: `*` (everything), a domain (`example.com`, `.example.com` or
    /// `*.example.com`: the domain and its subdomains), an IP address, or an IPv4/IPv6 CIDR block; a `:port` suffix is ignored.
    public static func bypasses(host rawHost: String, noProxy: String) -> Bool {
        let host = trimBrackets(rawHost).lowercased()
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        if let v4 = IPAddress.parseV4(host), v4 >> 24 == 127 { return true }
        if let v6 = IPAddress.parseV6(host), v6 == [UInt8](repeating: 0, count: 15) + [1] { return true }
        let entries = noProxy.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
        for rawEntry in entries {
            var entry = rawEntry.lowercased()
            if entry == "*" { return true }
            if entry.contains("/") {
                if IPAddress.cidr(entry, contains: host) { return true }
                continue
            }
            entry = stripPort(entry)
            if entry.hasPrefix("*.") { entry.removeFirst(2) } else if entry.hasPrefix(".") { entry.removeFirst() }
            guard !entry.isEmpty else { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
            if let a = IPAddress.parse(entry), let b = IPAddress.parse(host), a == b { return true }
        }
        return false
    }

    private static func stripPort(_ entry: String) -> String {
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { return entry }
            return String(entry[entry.index(after: entry.startIndex)..<close])
        }
        if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":"),
           entry[entry.index(after: colon)...].allSatisfy(\.isASCIIDigit) {
            return String(entry[..<colon])
        }
        return entry
    }

    /// The same proxy for AsyncHTTPClient: an http proxy is always used as a CONNECT tunnel.
    public var clientProxy: HTTPClient.Configuration.Proxy {
        switch kind {
        case .socks5:
            return .socksServer(host: host, port: port)
        case .http:
            let authorization = username.map { HTTPClient.Authorization.basic(username: $0, password: password ?? "") }
            return .server(host: host, port: port, authorization: authorization)
        }
    }

    public init(kind: Kind, host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.kind = kind
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    static func trimBrackets(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }
}

/// Minimal IP address parsing for `NO_PROXY` matching (no name resolution).
enum IPAddress {
    /// Bytes of an IPv4 (4) or IPv6 (16) literal.
    static func parse(_ text: String) -> [UInt8]? {
        if let v4 = parseV4(text) { return [UInt8(v4 >> 24), UInt8((v4 >> 16) & 0xFF), UInt8((v4 >> 8) & 0xFF), UInt8(v4 & 0xFF)] }
        return parseV6(text)
    }

    /// A dotted-quad IPv4 address as a 32-bit number.
    static func parseV4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit), let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    /// 16 bytes of an IPv6 literal (with `::` compression and an optional trailing dotted IPv4).
    static func parseV6(_ text: String) -> [UInt8]? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if i == pieces.count - 1, piece.contains("."), let v4 = parseV4(String(piece)) {
                    bytes += [UInt8(v4 >> 24), UInt8((v4 >> 16) & 0xFF), UInt8((v4 >> 8) & 0xFF), UInt8(v4 & 0xFF)]
                    continue
                }
                guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                bytes += [UInt8(group >> 8), UInt8(group & 0xFF)]
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// True when `host` is an IP literal inside the `address/prefix` block.
    static func cidr(_ block: String, contains host: String) -> Bool {
        let parts = block.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let network = parse(ProxySetting.trimBrackets(String(parts[0]))),
              let prefix = Int(parts[1]), let address = parse(host), network.count == address.count,
              (0...(network.count * 8)).contains(prefix) else { return false }
        var remaining = prefix
        for (n, a) in zip(network, address) {
            if remaining <= 0 { break }
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if n & mask != a & mask { return false }
            remaining -= bits
        }
        return true
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
