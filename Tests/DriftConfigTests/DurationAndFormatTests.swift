import DriftCore
import Foundation
import Testing

@testable import DriftConfig

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("500ms", 500 as Int64), ("30s", 30_000), ("15m", 900_000), ("1h", 3_600_000), ("1h30m", 5_400_000),
        ("1d", 86_400_000), ("0s", 0), ("1d2h3m4s5ms", 93_784_005), ("90s", 90_000), ("007s", 7_000),
    ])
    func accepts(text: String, milliseconds: Int64) throws {
        #expect(try DurationText.milliseconds(text) == milliseconds)
    }

    @Test(arguments: [
        ("", DurationText.ParseError.empty), ("1x", .invalid("1x")), ("m", .invalid("m")), ("1m1h", .invalid("1m1h")),
        ("1.5h", .invalid("1.5h")), ("-1s", .invalid("-1s")), ("1", .invalid("1")), ("1s1s", .invalid("1s1s")),
        (" 1s", .invalid(" 1s")), ("1S", .invalid("1S")), ("1 s", .invalid("1 s")), ("+1s", .invalid("+1s")),
        ("1µs", .invalid("1µs")), ("99999999999999999999ms", .overflow("99999999999999999999ms")),
        ("9223372036854775807d", .overflow("9223372036854775807d")),
        ("9223372036854775807ms1ms", .invalid("9223372036854775807ms1ms")),
        ("106751991168d", .overflow("106751991168d")),
    ])
    func rejects(text: String, error: DurationText.ParseError) {
        #expect(throws: error) { try DurationText.milliseconds(text) }
    }

    @Test func formatRoundTrips() throws {
        for value: Int64 in [0, 1, 999, 1_000, 59_999, 90_000, 5_400_000, 86_400_000, 93_784_005] {
            #expect(try DurationText.milliseconds(DurationText.format(milliseconds: value)) == value)
        }
    }

    @Test func configDurationsAreMilliseconds() {
        let text = """
            [api]
            timeout = "2s500ms"
            [schedule]
            interval = "1h30m"
            refresh_before_expiry = "0s"
            catch_up_window = "2m"
            [[webhook]]
            url = "https://x.example"
            secret_file = "/s"
            timeout = "1s"
            [[machine]]
            id = "a"
            interval = "1s"
            [[machine]]
            id = "b"
            """
        guard let loaded = loaded(parseConfig(text, files: ["/s": secretFile(sampleWebhookSecret)])) else { return }
        let config = loaded.config
        #expect(config.api.timeoutMilliseconds == 2_500)
        #expect(config.schedule.intervalMilliseconds == 5_400_000)
        #expect(config.schedule.refreshBeforeExpiryMilliseconds == 0)
        #expect(config.schedule.catchUpWindowMilliseconds == 120_000)
        #expect(config.webhooks.first?.timeoutMilliseconds == 1_000)
        #expect(config.machines.map { config.intervalMilliseconds(for: $0) } == [1_000, 5_400_000])
    }
}

@Suite struct URLAndBase64Tests {
    @Test(arguments: [
        ("http://127.0.0.1/v1", true), ("http://127.255.0.9:80", true), ("http://[::1]:8080/v1", true),
        ("http://localhost/", true), ("http://LOCALHOST:9", true), ("http://[::ffff:127.0.0.1]/", true),
        ("http://[0:0:0:0:0:0:0:1]/", true), ("http://128.0.0.1/", false), ("http://127.0.0.1.nip.io/", false),
        ("http://localhost.example.com/", false), ("http://[::2]/", false), ("http://10.0.0.1/", false),
        ("http://2130706433/", false),
    ])
    func loopback(url: String, isLoopback: Bool) throws {
        let parsed = try HTTPURL.parse(url).get()
        #expect(parsed.isLoopback == isLoopback)
    }

    @Test(arguments: [
        ("api.akua.dev/v1", "is not an absolute URL (expected https://HOST/...)"),
        ("https://user:pw@api.akua.dev/v1", "must not contain user credentials (user:password@)"),
        ("https://api.akua.dev/v1?x=1", "must not contain a query or fragment"),
        ("https://api.akua.dev:0/v1", "has an invalid port (1-65535)"),
        ("https://api.akua.dev:65536", "has an invalid port (1-65535)"),
        ("https://:443/v1", "has no host"),
        ("https://[::1/v1", "has an unterminated IPv6 address"),
        ("https://[zz::1]/v1", "has an invalid IPv6 address"),
        ("https://api akua.dev/", "must not contain spaces, control or non-ASCII characters (use punycode and percent-encoding)"),
        ("https://bücher.example/", "must not contain spaces, control or non-ASCII characters (use punycode and percent-encoding)"),
        ("https://a!b.example/", "has an invalid host name"),
        ("", "must not be empty"),
    ])
    func rejects(url: String, message: String) {
        #expect(throws: URLProblem(message)) { try HTTPURL.parse(url).get() }
    }

    @Test func normalisesSchemeHostAndTrailingSlash() {
        let text = "[api]\nbase_url = \"HTTPS://API.Akua.DEV/V1/\"\n[[machine]]\nid = \"m\"\n"
        #expect(loaded(parseConfig(text))?.config.api.baseURL == "https://api.akua.dev/V1")
    }

    @Test func closestKeySuggestions() {
        #expect(KeySuggestion.closest(to: "tmeout", in: ConfigSchema.api) == "timeout")
        #expect(KeySuggestion.closest(to: "baseurl", in: ConfigSchema.api) == "base_url")
        #expect(KeySuggestion.closest(to: "Interval", in: ConfigSchema.machine) == "interval")
        #expect(KeySuggestion.closest(to: "webhooks", in: ConfigSchema.topLevel) == "webhook")
        #expect(KeySuggestion.closest(to: "zzzzzz", in: ConfigSchema.api) == nil)
        #expect(KeySuggestion.closest(to: String(repeating: "x", count: 100_000), in: ConfigSchema.api) == nil)
    }

    @Test func diagnosticFormat() {
        let error = ConfigDiagnostic(file: "/etc/a.toml", line: 3, key: "api.timeout", message: "bad")
        let warning = ConfigDiagnostic(file: "/etc/a.toml", line: 0, key: "machine", message: "meh", severity: .warning)
        #expect(error.description == "/etc/a.toml:3: api.timeout: bad")
        #expect(warning.description == "/etc/a.toml:0: machine: warning: meh")
        #expect(TOMLPath([.key("machine"), .index(3), .key("id")]).dotted == "machine[3].id")
        #expect(TOMLPath([.key("api"), .key("odd key\n")]).dotted == #"api."odd key\n""#)
    }
}
