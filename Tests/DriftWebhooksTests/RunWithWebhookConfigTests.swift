import DriftTestSupport
import Foundation
import Testing

/// Issue 9, item 9, on the real binary: `run` agrees with `check-config` about webhook configs.
@Suite("akua-driftd run with webhook configs")
struct RunWithWebhookConfigTests {
    static let key = Data((0..<32).map { UInt8(($0 * 13 + 5) % 256) })

    static func config(_ directory: TemporaryDirectory, secret: String, urls: [String]) throws -> String {
        let secretPath = try directory.write("webhook.secret", secret + "\n")
        var text = """
            [api]
            base_url = "http://127.0.0.1:9/v1"

            [state]
            path = "\(directory.file("state.sqlite"))"

            [[machine]]
            id = "mch_run"

            """
        for url in urls { text += "[[webhook]]\nurl = \"\(url)\"\nsecret_file = \"\(secretPath)\"\n" }
        return try directory.write("config.toml", text)
    }

    static let environment = ["AKUA_API_TOKEN": "token-for-tests", "PATH": "/usr/bin:/bin"]

    @Test("duplicate webhook URLs: check-config and run both exit 78 with the FILE:LINE error (no trap)")
    func duplicateURLExits78() async throws {
        let binary = try PackagePaths.binary("akua-driftd")
        let directory = try TemporaryDirectory("akua-run-duplicate")
        let secret = "whsec_" + Self.key.base64EncodedString()
        let path = try Self.config(directory, secret: secret, urls: ["http://127.0.0.1:9/hook", "http://127.0.0.1:9/hook"])
        let expected = #"\#(path):13: webhook[1].url: duplicate webhook URL "http://127.0.0.1:9/hook" (first defined at line 10)"#
        for command in ["check-config", "run"] {
            var arguments = [command, "--config", path]
            if command == "run" { arguments += ["--log-target", "stderr"] }
            let result = try await ChildProcess.run(
                binary, arguments, environment: Self.environment, logDirectory: directory.path, name: command,
                timeout: .seconds(30))
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains(expected), "\(command): \(result.stderr)")
            #expect(!result.stderr.contains(String(secret.dropFirst(6).prefix(12))))
        }
    }

    @Test("an unpadded whsec_ secret that check-config accepts lets run start")
    func unpaddedSecretRuns() async throws {
        let binary = try PackagePaths.binary("akua-driftd")
        let directory = try TemporaryDirectory("akua-run-unpadded")
        let padded = "whsec_" + Self.key.base64EncodedString()
        let unpadded = String(padded.prefix { $0 != "=" })
        #expect(unpadded != padded)
        let path = try Self.config(directory, secret: unpadded, urls: ["http://127.0.0.1:9/hook"])
        let check = try await ChildProcess.run(
            binary, ["check-config", "--config", path], environment: Self.environment, logDirectory: directory.path,
            name: "check")
        #expect(check.status == 0, "\(check.stderr)")
        let daemon = try ChildProcess(
            binary, ["run", "--config", path, "--log-target", "stderr"], environment: Self.environment,
            logDirectory: directory.path, name: "run")
        try await eventually(timeout: .seconds(30), "the daemon has started or exited") {
            daemon.stderr.contains("started:") || !daemon.isRunning
        }
        #expect(daemon.isRunning, "run exited: \(daemon.stderr)")
        #expect(!daemon.stderr.contains("webhook secret"), "\(daemon.stderr)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
    }

    @Test("a webhook template with a syntax error: check-config and run exit 78 naming the template's file and line")
    func templateSyntaxError() async throws {
        let binary = try PackagePaths.binary("akua-driftd")
        let directory = try TemporaryDirectory("akua-run-template")
        let template = try directory.write("hook.mustache", "{\n  \"machine\": \"{{data.machine_id}}\",\n  \"state\": \"{{#data.state}}\"\n}\n")
        let path = try directory.write("config.toml", """
            [api]
            base_url = "http://127.0.0.1:9/v1"
            [state]
            path = "\(directory.file("state.sqlite"))"
            [[machine]]
            id = "mch_run"
            [[webhook]]
            url = "http://127.0.0.1:9/hook"
            format = "template"
            template_file = "\(template)"
            """)
        for command in ["check-config", "run"] {
            var arguments = [command, "--config", path]
            if command == "run" { arguments += ["--log-target", "stderr"] }
            let result = try await ChildProcess.run(
                binary, arguments, environment: Self.environment, logDirectory: directory.path, name: command, timeout: .seconds(30))
            #expect(result.status == 78, "\(command): \(result.status) \(result.stderr)")
            // The unclosed section opens on line 3; the parser finds it missing at the end (line 5).
            #expect(result.stderr.range(of: "\(template):[345]: webhook\\[0\\]\\.template_file: template syntax: a section is still open", options: .regularExpression) != nil,
                    "\(command): \(result.stderr)")
        }
    }
}
