import DriftCore
import Foundation
import Testing

@testable import DriftConfig

/// `[[webhook]] format` and `routing_key_file`: which receivers need which secret, and the errors a
/// wrong entry gets (FILE:LINE: key:).
@Suite("Webhook formats in the config")
struct WebhookFormatConfigTests {
    let directory = TempDirectory()
    static let environment = ["AKUA_API_TOKEN": "sk_test_token"]
    static let machine = "\n[[machine]]\nid = \"mch_a\"\n"

    private func load(_ text: String, environment: [String: String] = Self.environment) -> Result<LoadedConfig, ConfigError> {
        ConfigLoader.load(path: directory.write("config.toml", text + Self.machine), environment: environment)
    }

    private func errors(_ text: String, environment: [String: String] = Self.environment) -> [String] {
        guard case .failure(let error) = load(text, environment: environment) else { return [] }
        return error.diagnostics.map(\.description)
    }

    @Test("slack and teams need no webhook secret; standard still does")
    func unsignedFormatsNeedNoSecret() throws {
        let loaded = try load("""
            [[webhook]]
            url = "https://hooks.slack.com/services/T0/B0/x"
            format = "slack"
            [[webhook]]
            url = "https://example.webhook.office.com/workflows/1"
            format = "teams"
            """).get()
        #expect(loaded.config.webhooks.map(\.format) == [.slack, .teams])
        #expect(loaded.routingKeys == [nil, nil])
        let standard = errors("[[webhook]]\nurl = \"https://hooks.example.com/a\"\n")
        #expect(standard.contains { $0.contains("no webhook secret") }, "\(standard)")
    }

    @Test("pagerduty reads its routing key from routing_key_file or the credential, and says where it looked")
    func pagerDutyRoutingKey() throws {
        let keyFile = directory.write("pd.key", "0123456789abcdef0123456789abcdef\n")
        let loaded = try load("""
            [[webhook]]
            url = "https://events.pagerduty.com/v2/enqueue"
            format = "pagerduty"
            routing_key_file = "\(keyFile)"
            """).get()
        #expect(loaded.routingKeys.first??.reveal() == "0123456789abcdef0123456789abcdef")
        #expect(!"\(loaded)".contains("0123456789abcdef"), "the routing key shows in the loaded config's description")

        let credentials = directory.makeDirectory("creds")
        directory.write("creds/pagerduty-routing-key", "fedcba9876543210fedcba9876543210\n")
        let fromCredential = try load(
            "[[webhook]]\nurl = \"https://events.pagerduty.com/v2/enqueue\"\nformat = \"pagerduty\"\n",
            environment: Self.environment.merging(["CREDENTIALS_DIRECTORY": credentials]) { $1 }).get()
        #expect(fromCredential.routingKeys.first??.reveal() == "fedcba9876543210fedcba9876543210")

        let missing = errors("[[webhook]]\nurl = \"https://events.pagerduty.com/v2/enqueue\"\nformat = \"pagerduty\"\n")
        #expect(missing.contains { $0.contains("webhook[0].routing_key_file: no PagerDuty routing key") }, "\(missing)")
    }

    @Test("an unknown format and a routing key on another format are FILE:LINE errors")
    func wrongEntries() {
        let path = directory.path + "/config.toml"
        let unknown = errors("[[webhook]]\nurl = \"https://hooks.slack.com/services/x\"\nformat = \"slak\"\n")
        #expect(unknown.contains("\(path):3: webhook[0].format: unknown format \"slak\"; did you mean \"slack\"?"), "\(unknown)")
        let stray = errors("[[webhook]]\nurl = \"https://hooks.slack.com/services/x\"\nformat = \"slack\"\nrouting_key_file = \"/etc/x\"\n")
        #expect(stray.contains { $0.hasPrefix("\(path):4: webhook[0].routing_key_file: only a format = \"pagerduty\" webhook") }, "\(stray)")
    }

    @Test("secret_file as a list (rotation): the first is the current secret, each one is read and checked; bad lists are FILE:LINE errors")
    func secretRotationList() throws {
        let new = directory.write("new.secret", "whsec_" + Data("rotation-new-secret-0123".utf8).base64EncodedString() + "\n")
        let old = directory.write("old.secret", "whsec_" + Data("rotation-old-secret-3210".utf8).base64EncodedString() + "\n")
        let loaded = try load("[[webhook]]\nurl = \"https://hooks.example.com/a\"\nsecret_file = [\"\(new)\", \"\(old)\"]\n").get()
        #expect(loaded.config.webhooks.first?.secretFile == new)
        #expect(loaded.config.webhooks.first?.additionalSecretFiles == [old])
        #expect(loaded.additionalWebhookSecrets.first?.map(\.source) == [old])
        let path = directory.path + "/config.toml"
        let twice = errors("[[webhook]]\nurl = \"https://hooks.example.com/a\"\nsecret_file = [\"\(new)\", \"\(new)\"]\n")
        #expect(twice.contains { $0.hasPrefix("\(path):3: webhook[0].secret_file[1]: secret file") && $0.hasSuffix("is listed twice") }, "\(twice)")
        let bad = directory.write("bad.secret", "not-a-secret\n")
        let invalid = errors("[[webhook]]\nurl = \"https://hooks.example.com/a\"\nsecret_file = [\"\(new)\", \"\(bad)\"]\n")
        #expect(invalid.contains { $0.hasPrefix("\(path):3: webhook[0].secret_file[1]:") }, "\(invalid)")
        #expect(!invalid.joined().contains("not-a-secret"), "a secret's content reached a diagnostic")
        let empty = errors("[[webhook]]\nurl = \"https://hooks.example.com/a\"\nsecret_file = []\n")
        #expect(empty.contains("\(path):3: webhook[0].secret_file: must list 1 to 8 secret files (the current one first), got 0"), "\(empty)")
    }

    @Test("a webhook URL may carry a query (Teams Workflows put their signature there); it is never echoed; fragments are refused")
    func webhookURLWithQuery() throws {
        let teams = "https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=S3CRETsig"
        let loaded = try load("[[webhook]]\nurl = \"\(teams)\"\nformat = \"teams\"\n").get()
        #expect(loaded.config.webhooks.first?.url == teams)
        #expect(loaded.config.webhooks.first?.name == "prod-01.westus.logic.azure.com")
        let twice = errors("[[webhook]]\nurl = \"\(teams)\"\nformat = \"teams\"\n[[webhook]]\nurl = \"\(teams)\"\nformat = \"teams\"\n")
        #expect(twice.contains { $0.contains("duplicate webhook URL") }, "\(twice)")
        #expect(!twice.joined().contains("S3CRETsig"), "the URL's query reached a diagnostic: \(twice)")
        let fragment = errors("[[webhook]]\nurl = \"https://hooks.example.com/a#x\"\nformat = \"slack\"\n")
        #expect(fragment.contains { $0.hasSuffix("webhook[0].url: must not contain a fragment") }, "\(fragment)")
        let base = errors("[api]\nbase_url = \"https://api.example.com/v1?x=1\"\n")
        #expect(base.contains { $0.hasSuffix("api.base_url: must not contain a query or fragment") }, "\(base)")
    }

    @Test("url_file: the URL is read like a secret (never echoed), checked like url, and unique across both")
    func urlFile() throws {
        let slack = "https://hooks.slack.com/services/T000/B000/XXXXs3cret"
        let file = directory.write("slack.url", slack + "\n")
        let loaded = try load("[[webhook]]\nurl_file = \"\(file)\"\nformat = \"slack\"\n").get()
        #expect(loaded.config.webhooks.first?.url == "")
        #expect(loaded.webhookURLs.first??.reveal() == slack)
        #expect(loaded.config.webhooks.first?.name == "hooks.slack.com")
        #expect(!"\(loaded)".contains("XXXXs3cret"), "the URL shows in the loaded config's description")
        let path = directory.path + "/config.toml"

        let both = errors("[[webhook]]\nurl = \"https://a.example.com/x\"\nurl_file = \"\(file)\"\nformat = \"slack\"\n")
        #expect(both.contains("\(path):3: webhook[0].url_file: set url or url_file, not both"), "\(both)")
        let bad = directory.write("bad.url", "ftp://hooks.example.com/XXXXs3cret\n")
        let invalid = errors("[[webhook]]\nurl_file = \"\(bad)\"\nformat = \"slack\"\n")
        #expect(invalid.contains { $0.hasPrefix("\(path):2: webhook[0].url_file: the URL in") }, "\(invalid)")
        #expect(!invalid.joined().contains("XXXXs3cret"), "the URL reached a diagnostic: \(invalid)")
        let duplicate = errors("[[webhook]]\nurl = \"\(slack)\"\nformat = \"slack\"\n[[webhook]]\nurl_file = \"\(file)\"\nformat = \"slack\"\n")
        #expect(duplicate.contains("\(path):5: webhook[1].url_file: the URL in this file is also webhook[0]'s URL"), "\(duplicate)")
    }
}

