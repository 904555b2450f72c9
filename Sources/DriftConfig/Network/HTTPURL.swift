#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A strictly checked absolute `http`/`https` URL as the config accepts it (no credentials or fragment;
/// a query only where allowed: webhook URLs such as Teams Workflows carry one), and the loopback rule for
/// plain http.
struct HTTPURL: Sendable, Equatable {
    /// `http` or `https`, lowercased.
    var scheme: String
    /// Host as written but lowercased; IPv6 literals without brackets.
    var host: String
    var port: Int?
    /// Everything after the authority ("" or starting with "/"), the query included where allowed.
    var path: String

    var isHTTPS: Bool { scheme == "https" }

    /// The URL with scheme and host lowercased; `trimmingTrailingSlash` drops trailing `/`s of the path.
    func text(trimmingTrailingSlash: Bool) -> String {
        var hostPart = host.contains(":") ? "[\(host)]" : host
        if let port { hostPart += ":\(port)" }
        var pathPart = path
        if trimmingTrailingSlash {
            while pathPart.hasSuffix("/") { pathPart.removeLast() }
        }
        return "\(scheme)://\(hostPart)\(pathPart)"
    }

    /// Parses `text`, or explains in one line what is wrong (without echoing credentials).
    static func parse(_ text: String, allowQuery: Bool = false) -> Result<HTTPURL, URLProblem> {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return .failure(.init("must not be empty")) }
        if bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            return .failure(.init("must not contain spaces, control or non-ASCII characters (use punycode and percent-encoding)"))
        }
        guard let schemeEnd = text.firstRange(of: "://") else {
            return .failure(.init("is not an absolute URL (expected https://HOST/...)"))
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            let shown = scheme.count <= 16 ? TOMLPathFormat.quoted(scheme) : "in it"
            return .failure(.init("unsupported scheme \(shown) (use https)"))
        }
        let rest = text[schemeEnd.upperBound...]
        if rest.contains("#") || (!allowQuery && rest.contains("?")) {
            return .failure(.init(allowQuery ? "must not contain a fragment" : "must not contain a query or fragment"))
        }
        let authority: Substring
        let path: Substring
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            authority = rest[..<slash]
            path = rest[slash...]
        } else {
            authority = rest
            path = ""
        }
        if authority.contains("@") {
            return .failure(.init("must not contain user credentials (user:password@)"))
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return .failure(.init("has an unterminated IPv6 address"))
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return .failure(.init("has junk after the IPv6 address")) }
                portText = after.dropFirst()
            }
            guard Address.ipv6(String(host)) != nil else {
                return .failure(.init("has an invalid IPv6 address"))
            }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            let allowed = host.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F
            }
            if !allowed { return .failure(.init("has an invalid host name")) }
        }
        if host.isEmpty { return .failure(.init("has no host")) }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = Int(portText), (1...65535).contains(value)
            else { return .failure(.init("has an invalid port (1-65535)")) }
            port = value
        }
        return .success(HTTPURL(scheme: scheme, host: host.lowercased(), port: port, path: String(path)))
    }

    /// Whether the host is loopback: `localhost`, 127.0.0.0/8, `::1` (or IPv4-mapped 127/8).
    var isLoopback: Bool {
        if host == "localhost" || host == "localhost." { return true }
        if let v4 = Address.ipv4(host) { return v4[0] == 127 }
        if let v6 = Address.ipv6(host) {
            if v6[0..<15].allSatisfy({ $0 == 0 }) && v6[15] == 1 { return true }
            let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
            return Array(v6[0..<12]) == mapped && v6[12] == 127
        }
        return false
    }
}

/// Why a URL was rejected, as a message fragment ("must not contain a query or fragment").
struct URLProblem: Error, Sendable, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Numeric IP address parsing through `inet_pton`.
enum Address {
    static func ipv4(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}
