/// Paths of the installed service (deploy/akua-driftd.service), which the CLI uses when run by root
/// with no flags.
enum ServicePaths {
    /// The source of the unit's `LoadCredential=akua-token:`.
    static let tokenFile = "/etc/akua-driftd/token"
    /// The sources of the unit's other `LoadCredential=` lines, by credential name (for `webhook test`).
    static let credentialFallbacks = [
        "webhook-secret": "/etc/akua-driftd/webhook.secret", "pagerduty-routing-key": "/etc/akua-driftd/pagerduty.key",
    ]
}
