import DriftCore
import Foundation
import Testing

@testable import DriftConfig

/// Issue 9: duplicate webhooks, `whsec_` secrets with or without padding, `failing_after` and the
/// `check_failing` event, each through a real file and `check-config`.
@Suite struct WebhookAndEngineKeyTests {
    let directory = TempDirectory()
    let environment = ["AKUA_API_TOKEN": sampleToken]

    private func run(_ text: String) -> (path: String, exitCode: Int32, stdout: [String], stderr: [String]) {
        let path = directory.write("config.toml", text)
        let result = ConfigCheck.run(path: path, environment: environment)
        return (path, result.exitCode, result.stdout, result.stderr)
    }

    private func webhook(_ url: String, secret: String, extra: String = "") -> String {
        "[[webhook]]\nurl = \"\(url)\"\nsecret_file = \"\(secret)\"\n\(extra)"
    }

    @Test func duplicateWebhookURLsAreRejectedWithBothLines() {
        let secret = directory.write("s", sampleWebhookSecret)
        let result = run(
            "[[machine]]\nid = \"m\"\n"  // lines 1-2
                + webhook("https://hooks.example.com/x", secret: secret)  // lines 3-5
                + webhook("https://hooks.example.com/y", secret: secret)  // lines 6-8
                + webhook("https://hooks.example.com/x", secret: secret))  // lines 9-11
        #expect(result.exitCode == 78)
        #expect(result.stderr == [
            #"\#(result.path):10: webhook[2].url: duplicate webhook URL "https://hooks.example.com/x" (first defined at line 4)"#
        ])
    }

    @Test func urlsThatNormaliseToTheSameTextAreDuplicates() {
        let secret = directory.write("s", sampleWebhookSecret)
        let result = run(
            webhook("https://hooks.example.com/x", secret: secret)
                + webhook("HTTPS://HOOKS.EXAMPLE.COM/x", secret: secret) + "[[machine]]\nid = \"m\"\n")
        #expect(result.exitCode == 78)
        #expect(result.stderr == [
            #"\#(result.path):5: webhook[1].url: duplicate webhook URL "https://hooks.example.com/x" (first defined at line 2)"#
        ])
        // Different paths (case matters there) or a trailing slash are different endpoints.
        let distinct = run(
            webhook("https://hooks.example.com/x", secret: secret) + webhook("https://hooks.example.com/X", secret: secret)
                + webhook("https://hooks.example.com/x/", secret: secret) + "[[machine]]\nid = \"m\"\n")
        #expect(distinct.exitCode == 0, "\(distinct.stderr)")
    }

    @Test func duplicateNamesOnlyWarn() {
        let secret = directory.write("s", sampleWebhookSecret)
        let result = run(
            webhook("https://a.example/x", secret: secret, extra: "name = \"ops\"\n")
                + webhook("https://b.example/x", secret: secret, extra: "name = \"ops\"\n") + "[[machine]]\nid = \"m\"\n")
        #expect(result.exitCode == 0)
        #expect(result.stderr == [
            #"\#(result.path):8: webhook[1].name: warning: webhook name "ops" is also used at line 4; the logs will not tell the two apart"#
        ])
        // Names defaulting to the same host are not a problem worth a warning.
        let hosts = run(webhook("https://a.example/x", secret: secret) + webhook("https://a.example/y", secret: secret) + "[[machine]]\nid = \"m\"\n")
        #expect(hosts.exitCode == 0)
        #expect(hosts.stderr == [])
    }

    @Test func paddedAndUnpaddedSecretsBothPassAndDecodeToTheSameKey() throws {
        let key = Data((0..<32).map { UInt8($0 * 11 % 256) })
        let padded = "whsec_" + key.base64EncodedString()
        #expect(padded.hasSuffix("="))
        for (name, text) in [("padded", padded), ("unpadded", String(padded.prefix { $0 != "=" }))] {
            let secret = directory.write(name, text + "\n")
            let result = run(webhook("https://a.example/x", secret: secret) + "[[machine]]\nid = \"m\"\n")
            #expect(result.exitCode == 0, "\(name): \(result.stderr)")
            let loaded = try ConfigLoader.load(path: result.path, environment: environment).get()
            #expect(loaded.webhookSecrets.first?.revealWebhookKey() == key, "\(name)")
        }
    }

    @Test func garbageSecretsNameFileLineAndNeverTheSecret() {
        let value = "whsec_U2VjcmV0VmFsdWVUaGF0TXVzdE5vdExlYWs$"
        let secret = directory.write("garbage", value + "\n")
        let result = run("[[machine]]\nid = \"m\"\n" + webhook("https://a.example/x", secret: secret))
        #expect(result.exitCode == 78)
        #expect(result.stderr == [#"\#(result.path):5: webhook[0].secret_file: webhook secret file "\#(secret)" is not valid base64 after "whsec_""#])
        #expect(!result.stderr.joined().contains("U2VjcmV0VmFsdWVUaGF0TXVzdE5vdExlYWs"))
    }

    @Test func failingAfterDefaultsToThreeAndAcceptsPositiveIntegers() throws {
        let base = "[[machine]]\nid = \"m\"\n"
        #expect(try parseConfig(base).get().config.schedule.failingAfter == 3)
        #expect(try parseConfig("[schedule]\nfailing_after = 1\n" + base).get().config.schedule.failingAfter == 1)
        #expect(try parseConfig("[schedule]\nfailing_after = 10\n" + base).get().config.schedule.failingAfter == 10)
    }

    @Test func failingAfterRejectsZeroNegativeAndNonIntegers() {
        for (value, message) in [
            ("0", "must be between 1 and 1000000, got 0"),
            ("-2", "must be between 1 and 1000000, got -2"),
            ("\"3\"", "expected an integer, got string"),
            ("2.5", "expected an integer, got float"),
        ] {
            let result = run("[schedule]\nfailing_after = \(value)\n[[machine]]\nid = \"m\"\n")
            #expect(result.exitCode == 78)
            #expect(result.stderr == ["\(result.path):2: schedule.failing_after: \(message)"], "\(value)")
        }
        let typo = run("[schedule]\nfailing_afer = 3\n[[machine]]\nid = \"m\"\n")
        #expect(typo.stderr == [#"\#(typo.path):2: schedule.failing_afer: unknown key "failing_afer"; did you mean "failing_after"?"#])
    }

    @Test func checkFailingIsAnEventButNotADefault() throws {
        let secret = directory.write("s", sampleWebhookSecret)
        let text = webhook("https://a.example/x", secret: secret, extra: "events = [\"drifted\", \"check_failing\"]\n")
            + webhook("https://b.example/x", secret: secret, extra: "events = [\"check_failing\"]\n")
            + webhook("https://c.example/x", secret: secret) + "[[machine]]\nid = \"m\"\n"
        let result = run(text)
        #expect(result.exitCode == 0, "\(result.stderr)")
        let webhooks = try ConfigLoader.load(path: result.path, environment: environment).get().config.webhooks
        #expect(webhooks.map(\.events) == [[.drifted, .checkFailing], [.checkFailing], [.drifted, .inSync, .unknown]])
        #expect(webhooks.map(\.states) == [[.drifted], [], [.drifted, .inSync, .unknown]])
        #expect(webhooks.map(\.wantsCheckFailing) == [true, true, false])

        let typo = run(webhook("https://a.example/x", secret: secret, extra: "events = [\"check_failng\"]\n") + "[[machine]]\nid = \"m\"\n")
        #expect(typo.stderr == [#"\#(typo.path):4: webhook[0].events[0]: unknown event "check_failng"; did you mean "check_failing"?"#])
    }
}
