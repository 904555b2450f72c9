import DriftCore
import Foundation
import Testing

@testable import DriftConfig

/// The shipped `config/akua-driftd.toml` must stay valid and document every key.
@Suite struct ExampleConfigTests {
    let examplePath = repositoryRoot + "/config/akua-driftd.toml"

    @Test func passesCheckConfigWithATokenFromTheEnvironment() {
        let result = ConfigCheck.run(path: examplePath, environment: ["AKUA_API_TOKEN": "dummy-token"])
        #expect(result.exitCode == 0)
        #expect(result.stderr == [])
        #expect(result.stdout == ["\(examplePath): OK: 2 machines, 0 webhooks, default interval 15m, api https://api.akua.dev/v1"])
    }

    @Test func matchesTheDefaults() throws {
        guard let loaded = loaded(ConfigLoader.load(path: examplePath, environment: ["AKUA_API_TOKEN": "t"])) else { return }
        var expected = DaemonConfig()
        expected.machines = [
            MachineSettings(id: "mch_j572abc123def456", name: "web-1", intervalMilliseconds: 300_000),
            MachineSettings(id: "mch_k8d3f0e1a2b3c4d5", name: "db-1"),
        ]
        #expect(loaded.config == expected)
    }

    @Test func checksWithoutAnyTokenButWarns() {
        let result = ConfigCheck.run(path: examplePath, environment: [:])
        #expect(result.exitCode == 0)
        #expect(result.stderr.count == 1)
        #expect(result.stderr.first?.hasPrefix("\(examplePath):0: api.token_file: warning: no API token available here") == true)
        guard case .failure = ConfigLoader.load(path: examplePath, environment: [:]) else {
            Issue.record("the daemon must not load a config without a token")
            return
        }
    }

    /// Uncommenting every commented-out `key = value` line (and the webhook block) still gives a valid
    /// config, so the documented examples are themselves correct.
    @Test func everyCommentedExampleIsValid() throws {
        let text = try String(contentsOfFile: examplePath, encoding: .utf8)
        var keysSeen: Set<String> = []
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var body = Substring(line)
            while body.hasPrefix("# ") { body = body.dropFirst(2) }
            let isAssignment = body.range(of: #"^[a-z_]+ = "#, options: .regularExpression) != nil
            let isHeader = ["[[webhook]]", "[notify]", "[[maintenance]]"].contains(body)
            if isAssignment { keysSeen.insert(String(body.prefix { $0 != " " })) }
            return isAssignment || isHeader ? String(body) : String(line)
        }.joined(separator: "\n")
        let all = Set(
            ConfigSchema.api + ConfigSchema.schedule + ConfigSchema.state + ConfigSchema.log + ConfigSchema.metrics + ConfigSchema.webhook
                + ConfigSchema.machine + ConfigSchema.notify + ConfigSchema.maintenance)
        #expect(all.subtracting(keysSeen).isEmpty, "undocumented keys: \(all.subtracting(keysSeen))")

        let result = ConfigLoader.parse(text: uncommented, file: "example", environment: [:]) { path in
            switch path {
            case "/etc/akua-driftd/token": secretFile("token\n")
            case "/etc/akua-driftd/webhook.secret": secretFile(sampleWebhookSecret + "\n")
            case "/etc/akua-driftd/pagerduty.key": secretFile("0123456789abcdef0123456789abcdef\n")
            case "/etc/akua-driftd/discord.mustache": secretFile(#"{"content": "{{headline}}"}"#)
            case "/etc/akua-driftd/discord.url": secretFile("https://discord.com/api/webhooks/123/abc\n")
            default: .missing
            }
        }
        guard let loaded = loaded(result) else { return }
        #expect(loaded.warnings == [])
        #expect(loaded.config.webhooks.count == 3)
        #expect(loaded.config.webhooks.first?.name == "slack")
        #expect(loaded.config.webhooks.map(\.format) == [.standard, .pagerduty, .template])
        #expect(loaded.routingKeys[1]?.reveal() == "0123456789abcdef0123456789abcdef")
        #expect(loaded.config.webhooks.last?.templateText == #"{"content": "{{headline}}"}"#)
        #expect(loaded.webhookURLs.last??.reveal() == "https://discord.com/api/webhooks/123/abc")
        #expect(loaded.config.api.context == "ws_j572abc123def456")
        #expect(loaded.config.state.path == "/var/lib/akua-driftd/state.sqlite")
        #expect(loaded.token.reveal() == "token")
        #expect(loaded.config.notify == NotifyOverrides(
            confirmReports: 2, confirmForMs: 600_000, repeatIntervalMs: .some(14_400_000), ignoreAttributes: ["memory_mb"],
            groupWaitMs: 30_000))
        #expect(loaded.config.webhooks.first?.notify == NotifyOverrides(groupWaitMs: 60_000))
        #expect(loaded.config.machines.first?.notify == NotifyOverrides(ignoreAttributes: ["cpu_count"]))
        #expect(loaded.config.maintenance.map(\.description) == ["maintenance window 1 (sat,sun 02:00-04:00 Europe/Berlin)"])
    }
}
