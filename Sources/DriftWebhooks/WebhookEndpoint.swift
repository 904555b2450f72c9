import DriftCore

/// One configured receiver.
public struct WebhookEndpoint: Sendable {
    /// Stable id of the endpoint in the outbox: a hash of its URL, so renaming it keeps its queue.
    public let id: String
    public let url: String
    /// Label for logs: the configured name, else the URL's host (never the full URL with its query).
    public let label: String
    public let signer: WebhookSigner
    public let events: Set<DriftState>
    public let timeoutMs: Int64

    public init(url: String, name: String?, signer: WebhookSigner, events: Set<DriftState>, timeoutMs: Int64) {
        self.url = url
        id = Self.id(forURL: url)
        label = name ?? Self.host(of: url)
        self.signer = signer
        self.events = events
        // 1 ms ... 365 days, like the config allows, so the HTTP client's timeouts never overflow.
        self.timeoutMs = min(max(1, timeoutMs), 365 * 86_400_000)
    }

    public static func id(forURL url: String) -> String {
        "wh_" + StableHash.sha256Hex([url], length: 16)
    }

    static func host(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "webhook" }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(authority.split(separator: "@").last ?? authority)
    }
}
