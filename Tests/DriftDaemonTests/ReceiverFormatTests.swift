import AkuaSimulator
import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import Testing

/// Issue 11, receivers: the real daemon sends Slack, Teams and PagerDuty messages that stand-in receivers
/// (Tests/Support/receiver-shapes.py, written from each service's documentation, sharing no code with
/// akua-driftd) accept, one per transition, with PagerDuty's trigger/resolve following the recorded states.
@Suite("Receiver formats, end to end")
struct ReceiverFormatTests {
    static let token = "sk_akua_receivers_7d1c"
    static let routingKey = "R0UT1NGK3Y0123456789abcdefABCDEF"

    /// Starts Tests/Support/receiver-shapes.py; returns it, its port and the file it logs each request to.
    static func startStandIns(_ dir: TemporaryDirectory) async throws -> (ChildProcess, port: String, log: String) {
        let log = dir.file("received.jsonl")
        let process = try ChildProcess(
            "/usr/bin/python3", [PackagePaths.root + "/Tests/Support/receiver-shapes.py", log],
            environment: ["PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"], logDirectory: dir.path, name: "receivers")
        var port = ""
        try await eventually(timeout: .seconds(20), "the stand-in receivers listen") {
            if !process.isRunning { throw HarnessError("receiver-shapes.py exited: \(process.stderr)") }
            port = process.stdout.split(separator: "\n").first { $0.hasPrefix("listening ") }.map { String($0.dropFirst(10)) } ?? ""
            return !port.isEmpty
        }
        return (process, port, log)
    }

    /// The requests the stand-ins logged so far: `{path, content_type, accepted, errors, body, signed}` each.
    /// A failed test's teardown: the daemon and the stand-ins killed, the simulator stopped.
    static func abort(_ run: ChildProcess, _ receiver: ChildProcess, _ simulator: SimulatorServer) async {
        run.signal(SIGKILL)
        receiver.signal(SIGKILL)
        await simulator.shutdown()
    }

    /// The daemon stopped as systemd would (SIGTERM, exit 0 expected), then the stand-ins and the simulator.
    /// Every request is logged before it is answered, so the stand-ins' log is complete afterwards.
    static func stop(_ run: ChildProcess, _ receiver: ChildProcess, _ simulator: SimulatorServer) async throws {
        run.signal(SIGTERM)
        #expect(try await run.waitForExit(timeout: .seconds(30)) == 0, "\(run.stderr)")
        receiver.signal(SIGKILL)
        _ = try? await receiver.waitForExit(timeout: .seconds(10))
        await simulator.shutdown()
    }

    static func received(_ log: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test("slack, teams and pagerduty receivers accept every message; PagerDuty triggers on drifted and resolves on in_sync",
          .enabled(if: TestPreconditions.executable(["/usr/bin/python3"]) != nil, "needs /usr/bin/python3 for the stand-in receivers"))
    func formatsEndToEnd() async throws {
        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-receivers")
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: Self.token,
            machines: [
                SimulatedMachine(id: "mch_flip", name: "web-1", scenario: .flip(everySeconds: 2, startingWith: .inSync)),
                SimulatedMachine(id: "mch_drift", name: "db-1", scenario: .fixed(.drifted)),
            ],
            ttlSeconds: 60), logger: logger)
        let (receiver, port, log) = try await Self.startStandIns(dir)
        let tokenFile = try dir.write("token", Self.token)
        let keyFile = try dir.write("pagerduty.key", Self.routingKey + "\n")
        let statePath = dir.file("state.sqlite")
        // A Discord-style template: `{{…}}` escapes for JSON strings, so a name with quotes stays valid.
        let template = try dir.write("discord.mustache", """
            {"content": "{{headline}}", "machine": "{{data.machine_id}}", "name": "{{data.machine_name}}",
             "state": "{{data.state}}", "event": "{{data.event_id}}",
             "attributes": [{{#differences}}"{{name}}",{{/differences}}"end"]}
            """)
        let config = try dir.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            [schedule]
            interval = "1s"
            refresh_before_expiry = "5s"
            [state]
            path = "\(statePath)"
            [[webhook]]
            name = "chat"
            url = "http://127.0.0.1:\(port)/slack"
            format = "slack"
            group_wait = "0"  # one message per transition (grouping: PolicyReceiverFormatTests)
            [[webhook]]
            name = "teams"
            url = "http://127.0.0.1:\(port)/teams?api-version=2016-06-01&sig=s1gnature"
            format = "teams"
            group_wait = "0"
            [[webhook]]
            name = "pager"
            url = "http://127.0.0.1:\(port)/pagerduty"
            format = "pagerduty"
            routing_key_file = "\(keyFile)"
            [[webhook]]
            name = "discord"
            url = "http://127.0.0.1:\(port)/template"
            format = "template"
            template_file = "\(template)"
            [[machine]]
            id = "mch_flip"
            name = "web \\"1\\""
            [[machine]]
            id = "mch_drift"
            name = "db-1"
            """)
        let run = try ChildProcess(daemon, ["run", "--config", config, "--log-target", "stderr"], logDirectory: dir.path, name: "daemon")
        func received() -> [[String: Any]] { Self.received(log) }
        func pagerDuty() -> [[String: Any]] { received().filter { $0["path"] as? String == "/pagerduty" } }
        func actions(_ machine: String) -> [String] {
            pagerDuty().compactMap { $0["body"] as? [String: Any] }
                .filter { ($0["dedup_key"] as? String)?.hasSuffix("/" + machine) == true }
                .compactMap { $0["event_action"] as? String }
        }
        do {
            try await eventually(timeout: .seconds(60), "PagerDuty got a trigger and a resolve for the flipping machine") {
                if !run.isRunning { throw HarnessError("the daemon exited: \(run.stderr)") }
                let flip = actions("mch_flip")
                return flip.contains("trigger") && flip.contains("resolve") && actions("mch_drift").contains("trigger")
            }
        } catch {
            await ReceiverFormatTests.abort(run, receiver, simulator)
            throw error
        }
        try await ReceiverFormatTests.stop(run, receiver, simulator)

        let all = received()
        let rejected = all.filter { $0["accepted"] as? Bool != true }
        #expect(rejected.isEmpty, "rejected by the stand-in receivers: \(rejected.map { "\($0["path"] ?? "") \($0["errors"] ?? "")" })")
        #expect(all.allSatisfy { $0["signed"] as? Bool == false }, "a Standard Webhooks signature went to a non-standard receiver")
        #expect(!run.stderr.contains(Self.routingKey), "the routing key is in the daemon's log")
        #expect(!run.stderr.contains("s1gnature"), "the Teams URL's signature is in the daemon's log")

        // The oracle is the state file's transition log: what was sent to webhooks, one message per
        // receiver (first observations only when drifted, as for every webhook).
        let database = try AppDatabase.openReadOnly(path: statePath)
        let sent = try database.transitions().map(\.transition).filter { !$0.firstObservation || $0.state == .drifted }
        for path in ["/slack", "/teams", "/pagerduty", "/template"] {
            let count = all.filter { $0["path"] as? String == path }.count
            // Deliveries after the last transition may still be pending at SIGTERM: never more, at most
            // the last few fewer.
            #expect(count <= sent.count && count >= min(sent.count, 3), "\(path): \(count) messages for \(sent.count) transitions")
        }
        for message in pagerDuty() {
            let body = try #require(message["body"] as? [String: Any])
            let details = try #require((body["payload"] as? [String: Any])?["custom_details"] as? [String: Any])
            let eventID = try #require(details["event_id"] as? String)
            let transition = try #require(sent.first { $0.eventID == eventID }, "PagerDuty got an event the state file does not have")
            #expect(body["routing_key"] as? String == Self.routingKey)
            #expect(body["event_action"] as? String == (transition.state == .inSync ? "resolve" : "trigger"), "\(transition)")
            #expect(body["dedup_key"] as? String == "akua-driftd/drift/" + transition.machineID)
        }
        for message in all where message["path"] as? String == "/template" {
            let body = try #require(message["body"] as? [String: Any])
            let transition = try #require(sent.first { $0.eventID == body["event"] as? String }, "the template got an unknown event: \(body)")
            #expect(body["machine"] as? String == transition.machineID)
            #expect(body["state"] as? String == transition.state.rawValue)
            #expect(body["name"] as? String == (transition.machineID == "mch_flip" ? "web \"1\"" : "db-1"))
            let attributes = (body["attributes"] as? [String] ?? []).dropLast()
            #expect(Set(attributes) == Set(transition.report?.delta?.keys.map { $0 } ?? []), "\(body)")
        }
        for message in all where message["path"] as? String == "/slack" {
            let text = try #require((message["body"] as? [String: Any])?["text"] as? String)
            #expect(text.contains("mch_flip") || text.contains("mch_drift"), "Slack text names no machine: \(text)")
        }
    }

    @Test("webhook test NAME: one test event through each real receiver, answers printed, PagerDuty triggered then resolved",
          .enabled(if: TestPreconditions.executable(["/usr/bin/python3"]) != nil, "needs /usr/bin/python3 for the stand-in receivers"))
    func webhookTestCommand() async throws {
        let binary = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-webhook-test")
        let (stand, port, log) = try await Self.startStandIns(dir)
        defer { stand.signal(SIGKILL) }
        let secret = "whsec_" + Data("webhook-test-secret-0123456789ab".utf8).base64EncodedString()
        let standard = try await TestWebhookReceiver.start(secret: secret)
        let secretFile = try dir.write("webhook.secret", secret + "\n")
        let keyFile = try dir.write("pagerduty.key", Self.routingKey + "\n")
        let config = try dir.write("config.toml", """
            [api]
            base_url = "http://127.0.0.1:9/v1"
            [state]
            path = "\(dir.file("state.sqlite"))"
            [[webhook]]
            name = "signed"
            url = "\(standard.url)"
            secret_file = "\(secretFile)"
            [[webhook]]
            name = "chat"
            url = "http://127.0.0.1:\(port)/slack"
            format = "slack"
            [[webhook]]
            name = "teams"
            url = "http://127.0.0.1:\(port)/teams"
            format = "teams"
            [[webhook]]
            name = "pager"
            url = "http://127.0.0.1:\(port)/pagerduty"
            format = "pagerduty"
            routing_key_file = "\(keyFile)"
            [[machine]]
            id = "mch_a"
            """)
        let environment = ["AKUA_API_TOKEN": "sk_unused", "PATH": "/usr/bin:/bin"]
        func test(_ name: String) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(
                binary, ["webhook", "test", name, "--config", config], environment: environment, logDirectory: dir.path,
                name: "test-\(name)", timeout: .seconds(30))
        }
        for name in ["signed", "chat", "teams", "pager"] {
            let result = try await test(name)
            #expect(result.status == 0, "webhook test \(name): \(result.status) \(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("HTTP 2"), "webhook test \(name) printed no answer: \(result.stdout)")
            #expect(!result.stdout.contains(Self.routingKey) && !result.stderr.contains(Self.routingKey))
        }
        let unknown = try await test("nope")
        #expect(unknown.status == 2 && unknown.stderr.contains("no webhook named \"nope\""), "\(unknown.stderr)")

        // The standard receiver checked the signature and the schema independently (problems fail at shutdown).
        await standard.settled()
        #expect(standard.deliveries.count == 1)
        #expect(standard.deliveries.first.map { String(decoding: $0.body, as: UTF8.self).contains("\"machine.drift.test\"") } == true)
        await standard.shutdown()

        let all = Self.received(log)
        #expect(all.allSatisfy { $0["accepted"] as? Bool == true }, "rejected: \(all.filter { $0["accepted"] as? Bool != true })")
        let paths = all.compactMap { $0["path"] as? String }
        #expect(paths.sorted() == ["/pagerduty", "/pagerduty", "/slack", "/teams"], "\(paths)")
        let pager = all.filter { $0["path"] as? String == "/pagerduty" }.compactMap { $0["body"] as? [String: Any] }
        #expect(pager.compactMap { $0["event_action"] as? String } == ["trigger", "resolve"])
        #expect(Set(pager.compactMap { $0["dedup_key"] as? String }).count == 1, "trigger and resolve name different incidents")
    }

    @Test("secret rotation: secret_file lists the new and the old secret; a receiver holding either one verifies every event")
    func secretRotation() async throws {
        let binary = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-rotation")
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: Self.token, machines: [SimulatedMachine(id: "mch_r", scenario: .fixed(.drifted))], ttlSeconds: 60), logger: logger)
        let new = "whsec_" + Data("rotation-new-secret-0123456789ab".utf8).base64EncodedString()
        let old = "whsec_" + Data("rotation-old-secret-ba9876543210".utf8).base64EncodedString()
        // Each receiver checks signatures with its one secret, independently (Python's hmac) and with WebhookSigner.
        let holdsNew = try await TestWebhookReceiver.start(secret: new)
        let holdsOld = try await TestWebhookReceiver.start(secret: old)
        let newFile = try dir.write("new.secret", new + "\n"), oldFile = try dir.write("old.secret", old + "\n")
        let tokenFile = try dir.write("token", Self.token)
        let config = try dir.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            [schedule]
            interval = "1s"
            [state]
            path = "\(dir.file("state.sqlite"))"
            [[webhook]]
            name = "a"
            url = "\(holdsNew.url)"
            secret_file = ["\(newFile)", "\(oldFile)"]
            [[webhook]]
            name = "b"
            url = "\(holdsOld.url)"
            secret_file = ["\(newFile)", "\(oldFile)"]
            [[machine]]
            id = "mch_r"
            """)
        let run = try ChildProcess(binary, ["run", "--config", config, "--log-target", "stderr"], logDirectory: dir.path, name: "daemon")
        do {
            try await eventually(timeout: .seconds(30), "both receivers got the drifted machine") {
                if !run.isRunning { throw HarnessError("the daemon exited: \(run.stderr)") }
                return !holdsNew.deliveries.isEmpty && !holdsOld.deliveries.isEmpty
            }
        } catch {
            run.signal(SIGKILL)
            await simulator.shutdown()
            throw error
        }
        run.signal(SIGTERM)
        #expect(try await run.waitForExit(timeout: .seconds(30)) == 0)
        await simulator.shutdown()
        for receiver in [holdsNew, holdsOld] {
            await receiver.settled()
            #expect(receiver.deliveries.allSatisfy { $0.independentSignatureValid && $0.signatureValid })
            for attempt in receiver.attempts {
                let header = attempt.headers.first { $0.name.lowercased() == "webhook-signature" }?.value ?? ""
                #expect(header.split(separator: " ").count == 2 && header.split(separator: " ").allSatisfy { $0.hasPrefix("v1,") }, "\(header)")
            }
            await receiver.shutdown()
        }
    }
}

