import AkuaAPI
import DriftConfig
import DriftCore
import DriftProxy
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
            subscriptions: config.webhooks.map { webhook in
                // Per-machine rules only for the machines with `[[machine]]` policy keys.
                var machineRules: [String: NotifyRules] = [:]
                for machine in config.machines where !machine.notify.isEmpty {
                    machineRules[machine.id] = config.notifyRules(webhook: webhook, machine: machine)
                }
                return EngineSettings.Subscription(
                    webhookID: WebhookEndpoint.id(forURL: webhook.url), events: webhook.states,
                    checkFailing: webhook.wantsCheckFailing, name: webhook.name,
                    rules: config.notifyRules(webhook: webhook, machine: nil), machineRules: machineRules)
            },
            failingAfter: config.schedule.failingAfter,
            maintenance: config.maintenance.isEmpty ? NoMutes() : config.maintenanceSchedule)
    }

    public static func clientConfiguration(_ loaded: LoadedConfig, environment: [String: String]) -> AkuaClientConfiguration {
        let api = loaded.config.api
        let configuration = AkuaClientConfiguration(
            baseURL: api.baseURL, token: loaded.token.reveal(), context: api.context,
            timeout: .milliseconds(api.timeoutMilliseconds), environment: environment)
        return configuration
    }

    /// The configured webhooks, each with the proxy `environment` gives its URL (as for the API client).
    public static func endpoints(
        _ loaded: LoadedConfig, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> [WebhookEndpoint] {
        try zip(loaded.config.webhooks, loaded.webhookSecrets).enumerated().map { index, pair in
            let (settings, secret) = pair
            var signer: WebhookSigner?
            do {
                // A format without signatures needs no secret; one that is given is still checked.
                if settings.format.needsSecret || !secret.reveal().isEmpty { signer = try WebhookSigner(secret: secret.reveal()) }
            } catch {
                throw DaemonError.startup("webhook \(settings.name): \(error)")
            }
            let routingKey = index < loaded.routingKeys.count ? loaded.routingKeys[index]?.reveal() : nil
            var additionalSigners: [WebhookSigner] = []
            for extra in index < loaded.additionalWebhookSecrets.count ? loaded.additionalWebhookSecrets[index] : [] {
                do {
                    additionalSigners.append(try WebhookSigner(secret: extra.reveal()))
                } catch {
                    throw DaemonError.startup("webhook \(settings.name): \(error)")
                }
            }
            // A url_file's URL was read with the secrets; it is used here only.
            let url = index < loaded.webhookURLs.count ? loaded.webhookURLs[index]?.reveal() ?? settings.url : settings.url
            let proxy: ProxySetting?
            do {
                proxy = try WebhookEndpoint.proxy(forURL: url, environment: environment)
            } catch {
                throw DaemonError.startup("webhook \(settings.name): \(error)")
            }
            var template: WebhookTemplate?
            if settings.format == .template {
                let (parsed, problem) = webhookTemplate(settings, index: index)
                if let problem { throw DaemonError.config([problem.description]) }
                template = parsed
            }
            return WebhookEndpoint(
                url: url, name: settings.name, signer: signer, events: settings.states,
                timeoutMs: settings.timeoutMilliseconds, proxy: proxy, format: settings.format, routingKey: routingKey,
                template: template, additionalSigners: additionalSigners)
        }
    }

    /// The parsed template of a `format = "template"` webhook, or its problem as `TEMPLATE:LINE: key: message`
    /// (a template that does not parse, or renders a sample event into an invalid body).
    public static func webhookTemplate(_ settings: WebhookSettings, index: Int) -> (WebhookTemplate?, ConfigDiagnostic?) {
        let file = settings.templateFile ?? "(template)"
        let key = "webhook[\(index)].template_file"
        guard let text = settings.templateText else {
            return (nil, ConfigDiagnostic(file: file, line: 0, key: key, message: "the template was not read"))
        }
        do throws(WebhookTemplate.Problem) {
            return (try WebhookTemplate(text: text, contentType: settings.contentType), nil)
        } catch {
            return (nil, ConfigDiagnostic(file: file, line: error.line, key: key, message: error.message))
        }
    }

    /// Problems of every template webhook in `config` (for `check-config`).
    public static func templateDiagnostics(_ config: DaemonConfig) -> [ConfigDiagnostic] {
        config.webhooks.enumerated().compactMap { index, settings in
            settings.format == .template ? webhookTemplate(settings, index: index).1 : nil
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
