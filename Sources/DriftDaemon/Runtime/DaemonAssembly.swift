import AkuaAPI
import DriftConfig
import DriftCore
import DriftWebhooks
import Foundation

/// Turns a loaded config into the engine's settings, the API client configuration and the webhook
/// endpoints. Pure apart from reading nothing: secrets are already resolved by `ConfigLoader`.
public enum DaemonAssembly {
    public static func engineSettings(_ loaded: LoadedConfig) -> EngineSettings {
        let config = loaded.config
        return EngineSettings(
            machines: config.machines.map {
                EngineSettings.Machine(id: $0.id, name: $0.name, intervalMs: config.intervalMilliseconds(for: $0))
            },
            scheduler: SchedulerSettings(
                maxInFlight: config.api.maxInFlight,
                refreshBeforeMs: config.schedule.refreshBeforeExpiryMilliseconds,
                catchUpWindowMs: config.schedule.catchUpWindowMilliseconds,
                requestTimeoutMs: config.api.timeoutMilliseconds),
            trigger: config.schedule.trigger,
            subscriptions: config.webhooks.map {
                EngineSettings.Subscription(webhookID: WebhookEndpoint.id(forURL: $0.url), events: $0.states, checkFailing: $0.wantsCheckFailing)
            },
            failingAfter: config.schedule.failingAfter)
    }

    public static func clientConfiguration(_ loaded: LoadedConfig, environment: [String: String]) -> AkuaClientConfiguration {
        let api = loaded.config.api
        let configuration = AkuaClientConfiguration(
            baseURL: api.baseURL, token: loaded.token.reveal(), context: api.context,
            timeout: .milliseconds(api.timeoutMilliseconds), environment: environment)
        return configuration
    }

    public static func endpoints(_ loaded: LoadedConfig) throws -> [WebhookEndpoint] {
        try zip(loaded.config.webhooks, loaded.webhookSecrets).map { settings, secret in
            let signer: WebhookSigner
            do {
                signer = try WebhookSigner(secret: secret.reveal())
            } catch {
                throw DaemonError.startup("webhook \(settings.name): \(error)")
            }
            return WebhookEndpoint(
                url: settings.url, name: settings.name, signer: signer, events: settings.states,
                timeoutMs: settings.timeoutMilliseconds)
        }
    }
}

/// Why the daemon cannot start or go on.
public enum DaemonError: Error, CustomStringConvertible {
    case config([String])
    case startup(String)

    public var description: String {
        switch self {
        case .config(let lines): lines.joined(separator: "\n")
        case .startup(let text): text
        }
    }
}
