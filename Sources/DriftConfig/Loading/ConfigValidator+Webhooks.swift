import DriftCore
import TOMLKit

/// `[[webhook]]` entries: each one on its own, then across entries (a URL is the endpoint's id in the
/// outbox, so two entries with the same URL would be one endpoint configured twice).
extension ConfigValidator {
    mutating func validateWebhooks(_ tables: [(TOMLPath, TOMLTable)]) -> [WebhookSettings] {
        var webhooks: [WebhookSettings] = []
        // Where each URL and each explicit name was first defined; lines are looked up only for a duplicate.
        var firstURLs: [String: TOMLPath] = [:]
        var firstNames: [String: TOMLPath] = [:]
        for (path, table) in tables {
            let (webhook, explicitName) = validateWebhook(table, path: path)
            if !webhook.url.isEmpty {
                if let first = firstURLs[webhook.url] {
                    sink.error(
                        path.appending("url"),
                        "duplicate webhook URL \(TOMLPathFormat.quoted(webhook.url, limit: 200)) "
                            + "(first defined at \(place(of: first.appending("url"))))")
                } else {
                    firstURLs[webhook.url] = path
                }
            }
            if explicitName {
                if let first = firstNames[webhook.name] {
                    sink.warning(
                        path.appending("name"),
                        "webhook name \(TOMLPathFormat.quoted(webhook.name)) is also used at "
                            + "\(place(of: first.appending("name"))); the logs will not tell the two apart")
                } else {
                    firstNames[webhook.name] = path
                }
            }
            webhooks.append(webhook)
        }
        return webhooks
    }

    /// "line N" where `path` is defined, else its dotted path.
    private func place(of path: TOMLPath) -> String {
        let line = sink.line(of: path)
        return line > 0 ? "line \(line)" : path.dotted
    }

    /// One entry, and whether its `name` was written (else it is the URL's host).
    private mutating func validateWebhook(_ table: TOMLTable, path: TOMLPath) -> (WebhookSettings, explicitName: Bool) {
        checkKeys(table, path: path, known: ConfigSchema.webhook)
        let allowInsecure = bool(table, path, "allow_insecure_http") ?? false
        var webhook = WebhookSettings(url: "", name: "", allowInsecureHTTP: allowInsecure)
        if let text = string(table, path, "url", required: true),
            let url = httpURL(text, path: path.appending("url"), allowInsecure: allowInsecure, purpose: "signed event payloads")
        {
            webhook.url = url.text(trimmingTrailingSlash: false)
            webhook.name = url.host
        }
        let secretFile = filePath(table, path, "secret_file")
        webhook.secretFile = secretFile
        webhookSecretReferences.append(
            SecretReference(
                file: secretFile, path: path.appending("secret_file"),
                invalid: secretFile == nil && table["secret_file"] != nil))
        if let events = events(table, path) { webhook.events = events }
        if let timeout = duration(table, path, "timeout", minimum: 1) { webhook.timeoutMilliseconds = timeout }
        var explicitName = false
        if let name = string(table, path, "name") {
            let namePath = path.appending("name")
            if checkLength(name, ConfigSchema.nameLength, namePath), checkNoControl(name, namePath) {
                webhook.name = name
                explicitName = true
            }
        }
        return (webhook, explicitName)
    }

    /// `events`: a non-empty array of `WebhookEvent` names (the three states and `check_failing`).
    private mutating func events(_ table: TOMLTable, _ path: TOMLPath) -> Set<WebhookEvent>? {
        let eventsPath = path.appending("events")
        guard let value = table["events"]?.tomlValue else { return nil }
        guard value.type == .array, let array = value.array else {
            sink.error(eventsPath, "expected an array of strings, got \(Self.typeName(value.type))")
            return nil
        }
        if array.isEmpty {
            sink.error(eventsPath, "must list at least one event (or leave it out to get all)")
            return nil
        }
        let names = WebhookEvent.allCases.map(\.rawValue)
        var events = Set<WebhookEvent>()
        var valid = true
        for index in 0..<array.count {
            let elementPath = eventsPath.appending(index: index)
            let element = array[index].tomlValue
            guard element.type == .string, let name = element.string else {
                sink.error(elementPath, "expected a string, got \(Self.typeName(element.type))")
                valid = false
                continue
            }
            guard let event = WebhookEvent(rawValue: name) else {
                var message = "unknown event \(TOMLPathFormat.quoted(name))"
                if let suggestion = KeySuggestion.closest(to: name, in: names) {
                    message += "; did you mean \"\(suggestion)\"?"
                } else {
                    message += " (use \(names.map { "\"\($0)\"" }.joined(separator: ", ")))"
                }
                sink.error(elementPath, message)
                valid = false
                continue
            }
            if !events.insert(event).inserted {
                sink.warning(elementPath, "event \"\(name)\" is listed more than once")
            }
        }
        return valid ? events : nil
    }
}
