import DriftCore
import DriftProxy
import Foundation

/// One configured receiver.
public struct WebhookEndpoint: Sendable {
    /// Stable id of the endpoint in the outbox: a hash of its URL, so renaming it keeps its queue.
    public let id: String
    public let url: String
    /// Label for logs: the configured name, else the URL's host (never the full URL with its query).
    public let label: String
    /// Signs Standard Webhooks events; nil for a format that is not signed (Slack, Teams, PagerDuty).
    public let signer: WebhookSigner?
    /// The receiver's message shape, rendered from the stored event at send time.
    public let format: WebhookFormat
    /// PagerDuty's routing key (a secret: never logged).
    public let routingKey: String?
    /// A `format = "template"` receiver's template.
    public let template: WebhookTemplate?
    /// Further signers during a secret rotation: each adds its `v1,` signature to the header.
    public let additionalSigners: [WebhookSigner]
    public let events: Set<DriftState>
    public let timeoutMs: Int64
    /// The proxy deliveries go through (from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`), nil for direct.
    public let proxy: ProxySetting?

    public init(
        url: String, name: String?, signer: WebhookSigner?, events: Set<DriftState>, timeoutMs: Int64,
        proxy: ProxySetting? = nil, format: WebhookFormat = .standard, routingKey: String? = nil,
        template: WebhookTemplate? = nil, additionalSigners: [WebhookSigner] = []
    ) {
        self.template = template
        self.additionalSigners = additionalSigners
        self.format = format
        self.routingKey = routingKey
        self.url = url
        self.proxy = proxy
        id = Self.id(forURL: url)
        label = name ?? Self.host(of: url)
        self.signer = signer
        self.events = events
        // 1 ms ... 365 days, like the config allows, so the HTTP client's timeouts never overflow.
        self.timeoutMs = min(max(1, timeoutMs), 365 * 86_400_000)
    }

    /// The proxy for deliveries to `url` under `environment`, resolved exactly like the Akua API client's.
    public static func proxy(forURL url: String, environment: [String: String]) throws(ProxySettingError) -> ProxySetting? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty else { return nil }
        return try ProxySetting.from(environment: environment, targetScheme: scheme, targetHost: host)
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
