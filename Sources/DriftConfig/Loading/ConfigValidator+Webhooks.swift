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
                        "duplicate webhook URL \(TOMLPathFormat.quoted(Self.redactedQuery(webhook.url), limit: 200)) "
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

    /// `url` with its query (where receivers such as Teams put their signature) shown as `?…`.
    static func redactedQuery(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        return String(url[..<question]) + "?…"
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
        if table["url_file"] != nil {
            // The URL is a secret (Slack, Teams and Discord URLs grant posting): read with the secrets.
            if table["url"] != nil { sink.error(path.appending("url_file"), "set url or url_file, not both") }
            if let file = filePath(table, path, "url_file") {
                webhook.urlFile = file
                webhook.name = "webhook"
                urlReferences.append((index: webhookSecretReferences.count, reference: SecretReference(file: file, path: path.appending("url_file"))))
            }
        } else if let text = string(table, path, "url", required: true),
            let url = httpURL(text, path: path.appending("url"), allowInsecure: allowInsecure, purpose: "signed event payloads", allowQuery: true)
        {
            webhook.url = url.text(trimmingTrailingSlash: false)
            webhook.name = url.host
        }
        if let text = string(table, path, "format") {
            if let format = WebhookFormat(rawValue: text) {
                webhook.format = format
            } else {
                let names = WebhookFormat.allCases.map(\.rawValue)
                var message = "unknown format \(TOMLPathFormat.quoted(text))"
                if let suggestion = KeySuggestion.closest(to: text, in: names) {
                    message += "; did you mean \"\(suggestion)\"?"
                } else {
                    message += " (use \(names.map { "\"\($0)\"" }.joined(separator: ", ")))"
                }
                sink.error(path.appending("format"), message)
            }
        }
        let (secretFiles, secretsInvalid) = secretFiles(table, path)
        let secretFile = secretFiles.first
        webhook.secretFile = secretFile
        webhook.additionalSecretFiles = Array(secretFiles.dropFirst())
        webhookSecretReferences.append(
            SecretReference(
                file: secretFile, path: path.appending("secret_file"),
                invalid: secretsInvalid, optional: !webhook.format.needsSecret))
        additionalSecretReferences.append(secretFiles.enumerated().dropFirst().map { index, file in
            SecretReference(file: file, path: path.appending("secret_file").appending(index: index))
        })
        let routingKeyFile = filePath(table, path, "routing_key_file")
        if webhook.format == .pagerduty {
            webhook.routingKeyFile = routingKeyFile
            routingKeyReferences.append(
                SecretReference(
                    file: routingKeyFile, path: path.appending("routing_key_file"),
                    invalid: routingKeyFile == nil && table["routing_key_file"] != nil))
        } else {
            if table["routing_key_file"] != nil {
                sink.error(path.appending("routing_key_file"), "only a format = \"pagerduty\" webhook has a routing key")
            }
            routingKeyReferences.append(nil)
        }
        let templateFile = filePath(table, path, "template_file")
        let contentType = string(table, path, "content_type")
        if webhook.format == .template {
            webhook.templateFile = templateFile
            if let templateFile {
                templateReferences.append((index: webhookSecretReferences.count - 1, file: templateFile, path: path.appending("template_file")))
            } else if table["template_file"] == nil {
                sink.error(path.appending("format"), "a format = \"template\" webhook needs template_file (a Mustache template)")
            }
            if let contentType {
                // type/subtype with optional parameters (RFC 9110 media type), no control characters.
                let essence = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
                let parts = essence.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
                let token = { (part: Substring) in !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "!#$&-^_.+".contains($0)) } }
                if parts.count == 2, token(parts[0]), token(parts[1]), !contentType.contains(where: { $0.asciiValue.map { $0 < 0x20 } ?? false }) {
                    webhook.contentType = contentType
                } else {
                    sink.error(path.appending("content_type"), "invalid content type \(TOMLPathFormat.quoted(contentType)) (use e.g. \"application/json\")")
                }
            }
        } else {
            for key in ["template_file", "content_type"] where table[key] != nil {
                sink.error(path.appending(key), "only a format = \"template\" webhook has \(key)")
            }
        }
        if let events = events(table, path) { webhook.events = events }
        webhook.notify = notifyOverrides(table, path)
        if let groupWait = groupWait(table, path) {
            if webhook.format == .pagerduty, groupWait > 0 {
                // Never grouped: see DaemonConfig.notifyRules.
                sink.error(
                    path.appending("group_wait"),
                    "a format = \"pagerduty\" webhook is never grouped: the Events API v2 has no batch and resolves "
                        + "per dedup_key (one incident per machine); PagerDuty's own alert grouping merges them")
            } else {
                webhook.notify.groupWaitMs = groupWait
            }
        }
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

    /// `secret_file`: one path, or an array of paths for a rotation (every secret signs each event, so a
    /// receiver holding either the old or the new one verifies it). Also whether it is present but invalid.
    private mutating func secretFiles(_ table: TOMLTable, _ path: TOMLPath) -> (files: [String], invalid: Bool) {
        let keyPath = path.appending("secret_file")
        guard let value = table["secret_file"]?.tomlValue else { return ([], false) }
        guard value.type == .array, let array = value.array else {
            let file = filePath(table, path, "secret_file")
            return (file.map { [$0] } ?? [], file == nil)
        }
        guard (1...8).contains(array.count) else {
            sink.error(keyPath, "must list 1 to 8 secret files (the current one first), got \(array.count)")
            return ([], true)
        }
        var files: [String] = []
        for index in 0..<array.count {
            let elementPath = keyPath.appending(index: index)
            let element = array[index].tomlValue
            guard element.type == .string, let file = element.string, !file.isEmpty, checkNoControl(file, elementPath) else {
                sink.error(elementPath, "expected a non-empty file path")
                return ([], true)
            }
            if files.contains(file) {
                sink.error(elementPath, "secret file \(TOMLPathFormat.quoted(file, limit: 200)) is listed twice")
                return ([], true)
            }
            files.append(file)
        }
        return (files, false)
    }

    /// `events`: a non-empty array of `WebhookEvent` names (the three states, `check_failing`, `drift_changed`).
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
