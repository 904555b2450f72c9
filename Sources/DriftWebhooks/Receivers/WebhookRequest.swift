import AsyncHTTPClient
import DriftCore
import NIOCore

/// The HTTP side of one delivery, shared by the dispatcher and `akua-driftd webhook test`: the client
/// configuration of an endpoint and the request for one stored event.
public enum WebhookRequest {
    /// No redirects (a moved receiver is a configuration error), the endpoint's timeout and proxy.
    public static func clientConfiguration(for endpoint: WebhookEndpoint) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .milliseconds(endpoint.timeoutMs), read: .milliseconds(endpoint.timeoutMs))
        configuration.decompression = .disabled
        configuration.proxy = endpoint.proxy?.clientProxy
        // One connection attempt per delivery attempt: the outbox's backoff does the retrying (as the API
        // client does), instead of AsyncHTTPClient reconnecting until the timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        // No tracing: the daemon bootstraps no tracer, and a span per request is a cost on every delivery.
        configuration.tracing.tracer = nil
        return configuration
    }

    /// The POST of `body` (a stored Standard Webhooks event) rendered for the endpoint's format, with the
    /// Standard Webhooks headers when the format is signed.
    public static func make(
        endpoint: WebhookEndpoint, eventID: String, body: [UInt8], timestamp: Int64, userAgent: String,
        action: WebhookFormat.Action? = nil
    ) throws(WebhookFormat.RenderError) -> HTTPClientRequest {
        let rendered = try endpoint.format.render(body, routingKey: endpoint.routingKey, template: endpoint.template, action: action)
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: rendered.contentType)
        request.headers.add(name: "user-agent", value: userAgent)
        if rendered.signed, let signer = endpoint.signer {
            request.headers.add(name: "webhook-id", value: eventID)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            // One `v1,` signature per secret, space-separated, as the standard allows (a rotation).
            let signatures = ([signer] + endpoint.additionalSigners).map { $0.signature(id: eventID, timestamp: timestamp, body: rendered.body) }
            request.headers.add(name: "webhook-signature", value: signatures.joined(separator: " "))
        }
        request.body = .bytes(ByteBuffer(bytes: rendered.body))
        return request
    }
}
