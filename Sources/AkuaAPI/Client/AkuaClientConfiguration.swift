import DriftCore
import DriftProxy
import Foundation

/// Everything an `AkuaClient` needs: where the API is, how to authenticate, and its limits.
///
/// The token never appears in `description`, `debugDescription` or a `dump`/mirror of this value.
public struct AkuaClientConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The API root including its version path, e.g. `https://api.akua.dev/v1` or `http://127.0.0.1:PORT/v1`.
    public var baseURL: String
    /// The bearer token (`sk_akua_...` or a JWT). Never logged, never part of an error or description.
    public var token: String
    /// The optional `akua-context` header (a workspace id `ws_...`, 1-53 characters).
    public var context: String?
    /// Bound on a whole request: connecting, sending, and receiving the complete response.
    public var timeout: Duration
    /// Largest response body read; a larger one fails with `.oversized` without being buffered.
    public var maxResponseBytes: Int
    /// The `User-Agent` header.
    public var userAgent: String
    /// Where `HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy` and `NO_PROXY`/`no_proxy` are read from.
    public var environment: [String: String]

    /// A configuration; `environment` defaults to the process environment (pass `[:]` to ignore proxies).
    public init(
        baseURL: String,
        token: String,
        context: String? = nil,
        timeout: Duration = .seconds(30),
        maxResponseBytes: Int = 1 << 20,
        userAgent: String = "akua-driftd/\(akuaDriftdVersion)",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.baseURL = baseURL
        self.token = token
        self.context = context
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.userAgent = userAgent
        self.environment = environment
    }

    public var description: String {
        var parts = ["baseURL: \(baseURL)", "token: <redacted>"]
        if let context { parts.append("context: \(context)") }
        parts.append("timeout: \(timeout)")
        parts.append("maxResponseBytes: \(maxResponseBytes)")
        return "AkuaClientConfiguration(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "baseURL": baseURL, "token": "<redacted>", "context": context as Any, "timeout": timeout,
            "maxResponseBytes": maxResponseBytes, "userAgent": userAgent,
        ])
    }
}

/// The validated, precomputed form of a configuration that the client works from.
struct ResolvedConfiguration: Sendable {
    /// Base URL without a trailing slash.
    var base: String
    var scheme: String
    var host: String
    var port: Int
    var timeout: Duration
    var proxy: ProxySetting?

    /// Where connections go, for error messages: `host:port`, or the proxy.
    var connectionTarget: String {
        if let proxy { return "proxy \(proxy)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Validates `configuration`: an http(s) base URL with a host, a well-formed token, sane limits, and the proxy.
    init(_ configuration: AkuaClientConfiguration) throws(AkuaAPIError) {
        var base = configuration.baseURL.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let components = URLComponents(string: base), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty else {
            throw .configuration("base URL must be an http:// or https:// URL with a host")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil,
              components.password == nil else {
            throw .configuration("base URL must not have a query, fragment or user info")
        }
        let token = configuration.token
        guard !token.isEmpty else { throw .configuration("the API token is empty") }
        guard token.utf8.count <= 8192,
              token.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .configuration("the API token contains whitespace, control or non-ASCII characters")
        }
        if let context = configuration.context {
            if let problem = Validation.headerValue(context, name: "akua-context", maxLength: 53) {
                throw .configuration(problem)
            }
        }
        guard configuration.timeout > .zero else { throw .configuration("timeout must be positive") }
        guard configuration.maxResponseBytes > 0 else { throw .configuration("maxResponseBytes must be positive") }
        if let problem = Validation.headerValue(configuration.userAgent, name: "User-Agent", maxLength: 256) {
            throw .configuration(problem)
        }
        self.base = base
        self.scheme = scheme
        self.host = host
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
        self.timeout = configuration.timeout
        do {
            self.proxy = try ProxySetting.from(
                environment: configuration.environment, targetScheme: scheme, targetHost: host)
        } catch {
            throw .configuration(error.message)
        }
    }
}
