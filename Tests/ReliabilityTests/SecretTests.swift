import AkuaSimulator
@testable import DriftConfig
import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// Secrets: a whole run of the real daemon (journal, stderr, webhooks, status, check, check-config, the
/// state file, error messages) with a known token and webhook secret, faults included, never shows
/// either value nor its base64; readable secret files warn; plain http to other hosts and turning TLS
/// verification off are not possible silently.
@Suite("Secrets")
struct SecretTests {
    /// Every form of `value` that must never appear: itself and its base64 (padded and not).
    static func forms(of value: String) -> [String] {
        let base64 = Data(value.utf8).base64EncodedString()
        return [value, base64, base64.replacingOccurrences(of: "=", with: "")]
    }

    @Test("neither the API token nor the webhook secret (nor their base64) appears in anything the daemon writes",
          .enabled(if: TestPreconditions.journalSandbox, TestPreconditions.journalSandboxReason))
    func nothingLeaks() async throws {
        let seed = ReliabilitySeed.seed("secrets", default: 0x5EC2E7)
        var random = SeededRandom(seed: seed)
        func randomText(_ count: Int) -> String {
            let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            return String((0..<count).map { _ in random.pick(alphabet) })
        }
        let token = "sk_akua_" + randomText(32)
        let rotated = "sk_akua_" + randomText(32)
        let keyBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let key = Data(keyBytes).base64EncodedString()
        let secret = "whsec_" + key
        var forbidden = Self.forms(of: token) + Self.forms(of: rotated) + Self.forms(of: secret) + [key, key.replacingOccurrences(of: "=", with: "")]
        forbidden += [Data(keyBytes).map { String(format: "%02x", $0) }.joined()]

        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-reliability-secrets")
        let machines = ["mch_s1", "mch_s2", "mch_s3"]
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: token, machines: machines.map { SimulatedMachine(id: $0, name: "name-\($0)") }, ttlSeconds: 30, seed: seed))
        let receiver = try await TestWebhookReceiver.start(secret: secret)
        let tokenFile = try dir.write("token", token + "\n")
        let secretFile = try dir.write("webhook.secret", secret + "\n")
        let statePath = dir.file("state.sqlite")
        let goodConfig = """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            timeout = "1s"
            [schedule]
            interval = "1s"
            catch_up_window = "200ms"
            [state]
            path = "\(statePath)"
            [[webhook]]
            url = "\(receiver.url)"
            secret_file = "\(secretFile)"
            """ + machines.map { "\n[[machine]]\nid = \"\($0)\"\nname = \"name-\($0)\"" }.joined()
        let config = try dir.write("config.toml", goodConfig)
        let pidFile = dir.file("pid")
        let journalPath = dir.file("journal.jsonl")
        let sandbox = try ChildProcess(
            "/bin/bash", [PackagePaths.journalSandbox, "--timeout", "240", "--pidfile", pidFile, journalPath, "--",
                          daemon, "run", "--config", config, "--log-target", "journal", "--log-level", "debug"],
            logDirectory: dir.path, name: "sandbox")
        var collected: [(String, Data)] = []
        func rows() -> [String: [String: Any]] {
            guard let database = try? AppDatabase.openReadOnly(path: statePath), let records = try? database.machines() else { return [:] }
            return Dictionary(uniqueKeysWithValues: records.map { ($0.id, ["state": $0.state.rawValue, "error": $0.lastError as Any]) })
        }
        func state(_ id: String) -> String? { rows()[id]?["state"] as? String }
        func lastError(_ id: String) -> String? { rows()[id]?["error"] as? String }
        do {
            try await eventually(timeout: .seconds(30), "the daemon runs") { FileManager.default.fileExists(atPath: pidFile) }
            let pid = Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            try await eventually(timeout: .seconds(20), "every machine is known") { machines.allSatisfy { (state($0) ?? "unknown") != "unknown" } }

            // Faults: server errors with bodies, then malformed and oversized answers, for one machine.
            try simulator.control.setFaults(SimulatorFaults(errorRate: 1, errorStatuses: [503], machineIDs: ["mch_s2"]))
            try await eventually(timeout: .seconds(10), "the 503 is recorded") { lastError("mch_s2")?.contains("503") == true }
            try simulator.control.setFaults(SimulatorFaults(malformedRate: 0.5, oversizedRate: 0.5, machineIDs: ["mch_s2"]))
            try await Task.sleep(for: .seconds(2))
            try simulator.control.setFaults(.none)
            // Changes, so that webhooks are sent.
            try simulator.control.setState(.drifted, machineID: "mch_s1")
            try simulator.control.setState(.drifted, machineID: "mch_s3")
            try await eventually(timeout: .seconds(15), "the receiver got the drifts") {
                Set(receiver.deliveries.filter { $0.state == "drifted" }.map(\.machineID)).isSuperset(of: ["mch_s1", "mch_s3"])
            }
            // Token rotation: 401s, then the new token in the file and SIGHUP.
            simulator.control.setToken(rotated)
            try await eventually(timeout: .seconds(10), "the 401 is recorded") { lastError("mch_s1")?.contains("401") == true }
            _ = try dir.write("token", rotated)
            kill(pid, SIGHUP)
            try await eventually(timeout: .seconds(15), "the new token works") { machines.allSatisfy { lastError($0) == nil } }
            // A rejected reload: a token file holding the token with a space in it.
            let badToken = try dir.write("bad-token", rotated + " extra")
            _ = try dir.write("config.toml", goodConfig.replacingOccurrences(of: tokenFile, with: badToken))
            kill(pid, SIGHUP)
            try await Task.sleep(for: .milliseconds(800))
            _ = try dir.write("config.toml", goodConfig)
            // 404: a machine disappears.
            try simulator.control.deleteMachine(id: "mch_s2")
            try await eventually(timeout: .seconds(10), "the 404 is recorded") { lastError("mch_s2")?.contains("404") == true }

            // The CLI while the daemon runs: status, check (success and failure), check-config (good and bad).
            for (name, arguments) in [
                ("status", ["status", "--config", config]), ("status-json", ["status", "--config", config, "--json"]),
                ("check-ok", ["check", "mch_s1", "--config", config]), ("check-json", ["check", "mch_s3", "--config", config, "--json"]),
                ("check-404", ["check", "mch_s2", "--config", config]), ("check-config", ["check-config", "--config", config]),
            ] {
                let run = try await ChildProcess.run(daemon, arguments, logDirectory: dir.path, name: name)
                collected.append((name + " stdout", Data(run.stdout.utf8)))
                collected.append((name + " stderr", Data(run.stderr.utf8)))
            }
            let badConfig = try dir.write("bad.toml", goodConfig.replacingOccurrences(of: tokenFile, with: badToken))
            let checkBad = try await ChildProcess.run(daemon, ["check-config", "--config", badConfig], logDirectory: dir.path, name: "check-config-bad")
            #expect(checkBad.status == 78 && checkBad.stderr.contains("bad-token"), "\(checkBad.stderr)")
            collected.append(("check-config (bad token file) stderr", Data(checkBad.stderr.utf8)))
            // A wrong token with `check`: the 401 message.
            _ = try dir.write("token", "sk_akua_wrong_" + randomText(12))
            let check401 = try await ChildProcess.run(daemon, ["check", "mch_s1", "--config", config], logDirectory: dir.path, name: "check-401")
            #expect(check401.status == 2)
            collected.append(("check (401) stderr", Data(check401.stderr.utf8)))
            _ = try dir.write("token", rotated)

            sandbox.signal(SIGTERM)
            #expect(try await sandbox.waitForExit(timeout: .seconds(60)) == 0, "\(sandbox.stderr.suffix(2000))")
        } catch {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
            _ = try? await sandbox.waitForExit(timeout: .seconds(30))
            await receiver.shutdown()
            await simulator.shutdown()
            throw error
        }
        await receiver.shutdown()
        await simulator.shutdown()

        // Everything written: the journal (every field of every entry), stderr, webhook bodies and every
        // header but the signature, the state file and its WAL, the CLI's output.
        collected.append(("journal", try Data(contentsOf: URL(fileURLWithPath: journalPath))))
        collected.append(("daemon stdout", Data(sandbox.stdout.utf8)))
        collected.append(("daemon stderr", Data(sandbox.stderr.utf8)))
        for attempt in receiver.attempts {
            collected.append(("webhook body \(attempt.webhookID)", Data(attempt.body)))
            let headers = attempt.headers.filter { $0.name != "webhook-signature" }.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
            collected.append(("webhook headers \(attempt.webhookID)", Data(headers.utf8)))
        }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: statePath + suffix) {
            collected.append(("state file\(suffix)", try Data(contentsOf: URL(fileURLWithPath: statePath + suffix))))
        }
        let database = try AppDatabase.openReadOnly(path: statePath)
        let errors = try database.machines().compactMap(\.lastError).joined(separator: "\n")
        collected.append(("last errors", Data(errors.utf8)))

        // The run exercised what it claims to: signed deliveries, the errors, the reload rejection.
        let journal = readJournal(journalPath).filter { $0["SYSLOG_IDENTIFIER"] == "akua-driftd" }
        #expect(journal.count >= 30, "only \(journal.count) journal entries")
        #expect(journal.contains { $0["PRIORITY"] == "7" }, "no debug entries: the run should log at debug level")
        #expect(journal.contains { $0["MESSAGE_ID"] == "261660a403594acda50a63be2331b45b" }, "the bad reload was not rejected")
        #expect(journal.contains { $0["MESSAGE"]?.contains("401") == true })
        #expect(!receiver.deliveries.isEmpty && receiver.deliveries.allSatisfy { $0.signatureValid })
        #expect(receiver.attempts.contains { $0.headers.contains { $0.name == "webhook-signature" } })
        #expect(collected.contains { $0.0 == "check-ok stdout" && !$0.1.isEmpty })

        var total = 0
        for (what, data) in collected {
            total += data.count
            for value in forbidden where data.range(of: Data(value.utf8)) != nil {
                Issue.record("a secret (or its base64) appears in \(what)")
            }
        }
        print("[reliability] secrets: searched \(collected.count) outputs, \(total) bytes, for \(forbidden.count) forms of the token and secret")
    }

    @Test("group- or world-readable token and secret files produce a warning (check-config and at start)")
    func readableSecretFilesWarn() async throws {
        _ = ReliabilitySeed.seed("readable secret files", default: 0x5EC1)
        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-reliability-perms")
        let token = try dir.write("token", "sk_akua_perm_test", mode: 0o644)
        let secret = try dir.write("secret", "whsec_" + Data("permission-test-secret-0123456789".utf8).base64EncodedString(), mode: 0o640)
        let config = try dir.write("config.toml", """
            [api]
            base_url = "http://127.0.0.1:9/v1"
            token_file = "\(token)"
            [[webhook]]
            url = "http://127.0.0.1:9/hook"
            secret_file = "\(secret)"
            [[machine]]
            id = "mch_a"
            """)
        let run = try await ChildProcess.run(daemon, ["check-config", "--config", config], logDirectory: dir.path, name: "check")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("token file \"\(token)\" is readable by group or others (mode 0644)"), "\(run.stderr)")
        #expect(run.stderr.contains("webhook secret file \"\(secret)\" is readable by group or others (mode 0640)"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix(config + ":") && $0.contains(": warning: ") })
        // The daemon says so at start too.
        let started = ConfigLoader.load(path: config, environment: [:])
        let warnings = try started.get().warnings.map(\.description)
        #expect(warnings.filter { $0.contains("readable by group or others") }.count == 2)
        for mode in [0o600, 0o400] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: token)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: secret)
            #expect(try ConfigLoader.load(path: config, environment: [:]).get().warnings.isEmpty)
        }
    }

    @Test("plain http to a non-loopback host is refused unless allow_insecure_http is set (then it warns)")
    func insecureHTTP() throws {
        _ = ReliabilitySeed.seed("insecure http", default: 0x5EC3)
        let dir = try TemporaryDirectory("akua-reliability-http")
        let token = try dir.write("token", "sk_akua_http_test")
        let secret = try dir.write("secret", "whsec_" + Data("insecure-http-test-secret-0123456789".utf8).base64EncodedString())
        func config(api: String, webhook: String, allowAPI: Bool = false, allowWebhook: Bool = false) throws -> String {
            try dir.write("config.toml", """
                [api]
                base_url = "\(api)"
                token_file = "\(token)"
                \(allowAPI ? "allow_insecure_http = true" : "")
                [[webhook]]
                url = "\(webhook)"
                secret_file = "\(secret)"
                \(allowWebhook ? "allow_insecure_http = true" : "")
                [[machine]]
                id = "mch_a"
                """)
        }
        for (api, webhook) in [("http://api.example.invalid/v1", "https://hooks.example.invalid/x"),
                               ("https://api.example.invalid/v1", "http://hooks.example.invalid/x"),
                               ("http://10.0.0.1/v1", "https://hooks.example.invalid/x"),
                               ("https://api.example.invalid/v1", "http://[2001:db8::1]/x")] {
            let path = try config(api: api, webhook: webhook)
            let refused = ConfigCheck.run(path: path, environment: [:])
            #expect(refused.exitCode == 78)
            #expect(refused.stderr.contains { $0.contains("plain http is only allowed for loopback hosts") }, "\(refused.stderr)")
            let allowed = ConfigCheck.run(path: try config(api: api, webhook: webhook, allowAPI: true, allowWebhook: true), environment: [:])
            #expect(allowed.exitCode == 0, "\(allowed.stderr)")
            #expect(allowed.stderr.contains { $0.contains("warning: plain http to non-loopback host") }, "\(allowed.stderr)")
        }
        for loopback in ["http://127.0.0.1:8080/v1", "http://localhost/v1", "http://[::1]:9/v1"] {
            let result = ConfigCheck.run(path: try config(api: loopback, webhook: "http://127.0.0.2:9/x"), environment: [:])
            #expect(result.exitCode == 0 && !result.stderr.contains { $0.contains("plain http") }, "\(loopback): \(result.stderr)")
        }
    }

    @Test("TLS verification cannot be turned off: no such setting exists, and any attempt is an error")
    func noWayToDisableTLSVerification() throws {
        _ = ReliabilitySeed.seed("tls verification", default: 0x5EC4)
        let schema = ConfigSchema.api + ConfigSchema.webhook + ConfigSchema.schedule + ConfigSchema.state + ConfigSchema.machine
        let suspicious = ["tls", "ssl", "verify", "cert", "insecure_skip", "ca_", "trust"]
        for key in schema {
            #expect(!suspicious.contains { key.lowercased().contains($0) }, "config key \(key) looks like a TLS switch")
        }
        let dir = try TemporaryDirectory("akua-reliability-tls-keys")
        let token = try dir.write("token", "sk_akua_tls_test")
        let secret = try dir.write("secret", "whsec_" + Data("tls-key-test-secret-0123456789abcd".utf8).base64EncodedString())
        for (section, line) in [("api", "tls_verify = false"), ("api", "insecure_skip_verify = true"), ("api", "verify_tls = false"),
                                ("api", "ssl_verify = false"), ("webhook", "tls_verify = false"), ("webhook", "insecure = true"),
                                ("api", "ca_file = \"/dev/null\"")] {
            let path = try dir.write("config.toml", """
                [api]
                base_url = "https://api.example.invalid/v1"
                token_file = "\(token)"
                \(section == "api" ? line : "")
                [[webhook]]
                url = "https://hooks.example.invalid/x"
                secret_file = "\(secret)"
                \(section == "webhook" ? line : "")
                [[machine]]
                id = "mch_a"
                """)
            let result = ConfigCheck.run(path: path, environment: [:])
            #expect(result.exitCode == 78, "\(line) was accepted")
            #expect(result.stderr.contains { $0.contains("unknown key") }, "\(result.stderr)")
        }
        // Verification on in both HTTP clients is proven against a self-signed server in
        // WebhookFaultTests "a receiver with a self-signed certificate is never trusted; the API client refuses it too".
    }
}
