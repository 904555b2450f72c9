import Foundation
import Testing

@testable import DriftConfig

/// Each class of error, through a real file on disk, with the exact `FILE:LINE: key: message` text.
@Suite struct ConfigDiagnosticsTests {
    let directory = TempDirectory()
    var environment: [String: String] { ["AKUA_API_TOKEN": sampleToken] }

    /// Writes `text` as config.toml and returns check-config's stderr (exit code must be 78).
    private func check(_ text: String, environment: [String: String]? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        -> (path: String, lines: [String])
    {
        let path = directory.write("config.toml", text)
        let result = ConfigCheck.run(path: path, environment: environment ?? self.environment)
        #expect(result.exitCode == 78, sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        return (path, result.stderr)
    }

    @Test func syntaxErrorCarriesTOMLKitsLine() {
        let (path, lines) = check("[api]\ntimeout = \"5s\"\n\n[schedule\ninterval = \"1m\"\n")
        #expect(lines == ["\(path):4: (syntax): Error while parsing table header: expected ']', saw '\\n' (column 10)"])
    }

    @Test func unknownKeysSuggestTheClosestKnownKey() {
        let (path, lines) = check("""
            [api]
            tmeout = "5s"
            colour = "red"

            [machines]
            id = "x"

            [[machine]]
            id = "mch_1"
            intervall = "5m"
            """)
        #expect(lines == [
            #"\#(path):2: api.tmeout: unknown key "tmeout"; did you mean "timeout"?"#,
            #"\#(path):3: api.colour: unknown key "colour" (known keys: base_url, token_file, context, timeout, max_in_flight, allow_insecure_http)"#,
            #"\#(path):5: machines: unknown key "machines"; did you mean [[machine]]?"#,
            #"\#(path):10: machine[0].intervall: unknown key "intervall"; did you mean "interval"?"#,
        ])
    }

    @Test func keysWrittenAtTheTopLevelPointToTheirSection() {
        let (path, lines) = check("""
            interval = "5m"
            id = "mch_1"
            nonsense = 1
            """)
        #expect(lines == [
            #"\#(path):1: interval: unknown key "interval"; did you mean to put it under [schedule]?"#,
            #"\#(path):2: id: unknown key "id"; did you mean to put it under [[machine]]?"#,
            #"\#(path):3: nonsense: unknown key "nonsense" (known tables: [api], [schedule], [state], [log], [metrics], [notify], [[webhook]], [[machine]], [[maintenance]])"#,
        ])
    }

    @Test func anInvalidTokenFileKeyIsTheOnlyTokenError() {
        let (path, lines) = check("[api]\ntoken_file = 5\n[[machine]]\nid = \"m\"\n", environment: [:])
        #expect(lines == ["\(path):2: api.token_file: expected a string, got integer"])
    }

    @Test func wrongTypes() {
        let (path, lines) = check("""
            [api]
            base_url = 42
            max_in_flight = "8"
            allow_insecure_http = "yes"
            timeout = 30

            [[machine]]
            id = 12
            """)
        #expect(lines == [
            "\(path):2: api.base_url: expected a string, got integer",
            "\(path):3: api.max_in_flight: expected an integer, got string",
            "\(path):4: api.allow_insecure_http: expected a boolean (true or false), got string",
            #"\#(path):5: api.timeout: expected a duration string such as "30s", got integer"#,
            "\(path):8: machine[0].id: expected a string, got integer",
        ])
    }

    @Test func tablesOfTheWrongShape() {
        let (path, lines) = check("""
            api = "https://api.akua.dev/v1"
            [machine]
            id = "mch_1"
            """)
        #expect(lines == [
            "\(path):1: api: expected a table ([api]), got string",
            "\(path):2: machine: expected an array of tables ([[machine]] for each entry), got table",
        ])
    }

    @Test func badDurationsAndIntervalBelowOneSecond() {
        let (path, lines) = check("""
            [api]
            timeout = "0s"
            [schedule]
            interval = "500ms"
            refresh_before_expiry = "1x"
            catch_up_window = ""
            [[machine]]
            id = "mch_1"
            interval = "400d"
            [[machine]]
            id = "mch_2"
            interval = "99999999999999999999s"
            """)
        #expect(lines == [
            "\(path):2: api.timeout: must be greater than 0",
            #"\#(path):4: schedule.interval: must be at least 1s, got "500ms""#,
            #"\#(path):5: schedule.refresh_before_expiry: invalid duration "1x" (use e.g. "500ms", "30s", "15m", "1h30m", "1d")"#,
            #"\#(path):6: schedule.catch_up_window: empty duration (use e.g. "500ms", "30s", "15m", "1h30m", "1d")"#,
            #"\#(path):9: machine[0].interval: must be at most 365d, got "400d""#,
            #"\#(path):12: machine[1].interval: duration "99999999999999999999s" is too long"#,
        ])
    }

    @Test func machineIDs() {
        let long = String(repeating: "m", count: 55)
        let (path, lines) = check("""
            [[machine]]
            id = "mch_a"

            [[machine]]
            name = "no id"

            [[machine]]
            id = ""

            [[machine]]
            id = "\(long)"

            [[machine]]
            id = "mch a"

            [[machine]]
            name = "again"
            id = "mch_a"
            """)
        #expect(lines == [
            #"\#(path):4: machine[1].id: missing required key "id""#,
            "\(path):8: machine[2].id: must not be empty",
            "\(path):11: machine[3].id: is too long (55 characters; at most 54)",
            "\(path):14: machine[4].id: must not contain whitespace or control characters",
            #"\#(path):18: machine[5].id: duplicate machine id "mch_a" (first defined at line 2)"#,
        ])
        // 54 characters is fine.
        let ok = parseConfig("[[machine]]\nid = \"\(String(repeating: "m", count: 54))\"\n")
        #expect(loaded(ok)?.config.machines.first?.id.count == 54)
    }

    @Test func plainHTTPOnlyForLoopback() {
        let (path, lines) = check("""
            [api]
            base_url = "http://api.akua.dev/v1"
            [[webhook]]
            url = "http://hooks.example.com/x"
            secret_file = "\(directory.write("s", sampleWebhookSecret))"
            [[webhook]]
            url = "ftp://hooks.example.com/x"
            secret_file = "\(directory.path)/s"
            [[machine]]
            id = "mch_1"
            """)
        let rule = "plain http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost); use https or set allow_insecure_http = true"
        #expect(lines == [
            "\(path):2: api.base_url: \(rule)",
            "\(path):4: webhook[0].url: \(rule)",
            #"\#(path):7: webhook[1].url: unsupported scheme "ftp" (use https)"#,
        ])
    }

    @Test func insecureHTTPCanBeAllowedWithAWarning() throws {
        let path = directory.write("config.toml", """
            [api]
            base_url = "http://akua.internal:8080/v1/"
            allow_insecure_http = true
            [[machine]]
            id = "mch_1"
            """)
        let result = ConfigCheck.run(path: path, environment: environment)
        #expect(result.exitCode == 0)
        #expect(result.stderr == [
            #"\#(path):2: api.base_url: warning: plain http to non-loopback host "akua.internal": the API token travel unencrypted"#
        ])
        #expect(result.stdout == ["\(path): OK: 1 machine, 0 webhooks, default interval 15m, api http://akua.internal:8080/v1"])
    }

    @Test func loopbackHTTPIsFine() {
        for url in ["http://127.0.0.1:8080/v1", "http://127.9.8.7/v1", "http://[::1]:9/v1", "http://localhost/v1", "HTTP://LocalHost:1"] {
            let result = parseConfig("[api]\nbase_url = \"\(url)\"\n[[machine]]\nid = \"m\"\n")
            #expect(loaded(result)?.warnings == [], "\(url)")
        }
    }

    @Test func missingAndUnreadableTokenFiles() {
        let tokenDirectory = directory.makeDirectory("token-dir")
        let (path, lines) = check("""
            [api]
            token_file = "\(directory.path)/absent"
            [[webhook]]
            url = "https://hooks.example.com/a"
            secret_file = "\(tokenDirectory)"
            [[machine]]
            id = "mch_1"
            """)
        #expect(lines == [
            #"\#(path):2: api.token_file: cannot read token file "\#(directory.path)/absent": No such file or directory"#,
            #"\#(path):5: webhook[0].secret_file: cannot read webhook secret file "\#(tokenDirectory)": Is a directory"#,
        ])
    }

    @Test func noTokenAnywhere() throws {
        // The loader (what `run` uses) refuses a config without any token...
        let file = directory.write("notoken.toml", "[[machine]]\nid = \"mch_1\"\n")
        guard case .failure(let error) = ConfigLoader.load(path: file, environment: [:]) else {
            Issue.record("a config without any token must not load")
            return
        }
        #expect(error.diagnostics.map(\.description) == [
            "\(file):0: api.token_file: no API token: set [api] token_file, provide $CREDENTIALS_DIRECTORY/akua-token "
                + "(systemd LoadCredential=akua-token:...), or set AKUA_API_TOKEN"
        ])
        // ...while check-config, outside the service, checks the file and only warns about the token.
        let result = ConfigCheck.run(path: file, environment: [:])
        #expect(result.exitCode == 0)
        #expect(result.stderr == ["\(file):0: api.token_file: warning: no API token available here; `akua-driftd run` will need one: "
            + "the service gets it as the akua-token credential (LoadCredential=akua-token:...), or set [api] token_file or AKUA_API_TOKEN"])
        // Inside the service (credentials directory present but empty of a token) it is an error.
        let credentials = directory.path
        #expect(ConfigCheck.run(path: file, environment: ["CREDENTIALS_DIRECTORY": credentials + "/none"]).exitCode == 78)
    }

    @Test func emptyTokens() {
        let tokenPath = directory.write("token", "\n  \n")
        let (path, lines) = check("[api]\n\ntoken_file = \"\(tokenPath)\"\n[[machine]]\nid = \"m\"\n")
        #expect(lines == [#"\#(path):3: api.token_file: token file "\#(tokenPath)" is empty"#])
        let (_, envLines) = check("[[machine]]\nid = \"m\"\n", environment: ["AKUA_API_TOKEN": ""])
        #expect(envLines == ["\(path):0: api.token_file: $AKUA_API_TOKEN is empty"])
    }

    @Test func badWebhookSecrets() {
        let noPrefix = directory.write("no-prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
        let badBase64 = directory.write("bad-base64", "whsec_not*base64!\n")
        let short = directory.write("short", "whsec_c2hvcnQ=\n")
        let (path, lines) = check("""
            [[webhook]]
            url = "https://a.example"
            secret_file = "\(noPrefix)"
            [[webhook]]
            url = "https://b.example"
            secret_file = "\(badBase64)"
            [[webhook]]
            url = "https://c.example"
            secret_file = "\(short)"
            [[machine]]
            id = "m"
            """)
        #expect(lines == [
            #"\#(path):3: webhook[0].secret_file: webhook secret file "\#(noPrefix)" must hold a Standard Webhooks secret: "whsec_" followed by base64"#,
            #"\#(path):6: webhook[1].secret_file: webhook secret file "\#(badBase64)" is not valid base64 after "whsec_""#,
            #"\#(path):9: webhook[2].secret_file: webhook secret file "\#(short)" is too short (5 bytes after base64 decoding; at least 16)"#,
        ])
    }

    @Test func webhookEvents() {
        let secret = directory.write("s", sampleWebhookSecret)
        let (path, lines) = check("""
            [[webhook]]
            url = "https://a.example"
            secret_file = "\(secret)"
            events = [
              "drifted",
              "in-sync",
              3,
            ]
            [[webhook]]
            url = "https://b.example"
            secret_file = "\(secret)"
            events = []
            [[machine]]
            id = "m"
            """)
        #expect(lines == [
            #"\#(path):6: webhook[0].events[1]: unknown event "in-sync"; did you mean "in_sync"?"#,
            "\(path):7: webhook[0].events[2]: expected a string, got integer",
            "\(path):12: webhook[1].events: must list at least one event (or leave it out to get all)",
        ])
    }

    @Test func encodingProblemsGiveTheirLine() {
        let invalid = directory.write("config.toml", bytes: Array("[api]\ntimeout = \"3".utf8) + [0xFF] + Array("s\"\n".utf8))
        #expect(ConfigCheck.run(path: invalid, environment: environment).stderr == [
            "\(invalid):2: (file): invalid UTF-8 (byte 0xFF at column 13)"
        ])
        let nul = directory.write("nul.toml", bytes: Array("\n\n[api]\n".utf8) + [0] + Array("x = 1\n".utf8))
        #expect(ConfigCheck.run(path: nul, environment: environment).stderr == [
            "\(nul):4: (file): contains a NUL byte (column 1)"
        ])
        let escaped = directory.write("esc.toml", "[[machine]]\nid = \"mch_\\u0000x\"\n")
        #expect(ConfigCheck.run(path: escaped, environment: environment).stderr == [
            #"\#(escaped):2: machine[0].id: contains an escaped NUL character (\u0000), which is not allowed"#
        ])
    }

    @Test func unreadableConfigFile() {
        let missing = directory.path + "/nope.toml"
        let result = ConfigCheck.run(path: missing, environment: environment)
        #expect(result.exitCode == 78)
        #expect(result.stderr == ["\(missing):0: (file): cannot read: No such file or directory"])
        #expect(ConfigCheck.run(path: directory.path, environment: environment).stderr == [
            "\(directory.path):0: (file): cannot read: Is a directory"
        ])
        #expect(ConfigCheck.run(path: "/dev/null/x", environment: environment).stderr == [
            "/dev/null/x:0: (file): cannot read: No such file or directory"
        ])
        #expect(ConfigCheck.run(path: "/dev/zero", environment: environment).stderr == [
            "/dev/zero:0: (file): cannot read: not a regular file"
        ])
    }

    @Test func everyErrorIsReportedNotOnlyTheFirst() {
        let (_, lines) = check("""
            [api]
            timeout = "x"
            max_in_flight = 0
            context = ""
            [schedule]
            trigger = ""
            [state]
            path = ""
            [[machine]]
            id = "a"
            [[machine]]
            id = "a"
            """)
        #expect(lines.count == 6)
        #expect(lines.map { $0.split(separator: ":")[1] } == ["2", "3", "4", "6", "8", "12"])
    }

    @Test func warningsPrecedeTheSummaryOnStderr() throws {
        let token = directory.write("token", sampleToken + "\n", mode: 0o644)
        let path = directory.write("config.toml", "[api]\ntoken_file = \"\(token)\"\n")
        let result = ConfigCheck.run(path: path, environment: [:])
        #expect(result.exitCode == 0)
        #expect(result.stderr == [
            #"\#(path):2: api.token_file: warning: token file "\#(token)" is readable by group or others (mode 0644); restrict it with chmod 600"#,
            "\(path):0: machine: warning: no [[machine]] entries: there is nothing to watch",
        ])
        #expect(result.stdout == ["\(path): OK: 0 machines, 0 webhooks, default interval 15m, api https://api.akua.dev/v1"])
    }
}
