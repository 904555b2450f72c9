import AkuaSimulator
import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import Testing

/// Issue 11, policy × formats through the real daemon: machines drifting together reach Slack, Teams and a
/// template as grouped messages listing every machine, PagerDuty as one trigger per machine (never grouped),
/// and a drift change as a re-trigger of the same incident; every request is accepted by the stand-in of its
/// service (Tests/Support/receiver-shapes.py, written from the services' documentation).
@Suite("Policy events per receiver format, end to end")
struct PolicyReceiverFormatTests {
    static let machines = ["mch_g1", "mch_g2", "mch_g3"]

    @Test("group_wait groups a fleet-wide drift into few chat messages naming every machine; PagerDuty gets one trigger per machine; drift_changed re-triggers",
          .enabled(if: TestPreconditions.executable(["/usr/bin/python3"]) != nil, "needs /usr/bin/python3 for the stand-in receivers"))
    func groupsAndChanges() async throws {
        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-policy-formats")
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: ReceiverFormatTests.token, machines: Self.machines.map { SimulatedMachine(id: $0, name: "web-\($0.suffix(1))", scenario: .fixed(.inSync)) },
            ttlSeconds: 60), logger: logger)
        // Drifted reports name fixed attributes, so only the explicit change below is a drift change.
        for machine in Self.machines { try simulator.control.setDriftAttributes(["cpu"], machineID: machine) }
        let (receiver, port, log) = try await ReceiverFormatTests.startStandIns(dir)
        let tokenFile = try dir.write("token", ReceiverFormatTests.token)
        let keyFile = try dir.write("pagerduty.key", ReceiverFormatTests.routingKey + "\n")
        let statePath = dir.file("state.sqlite")
        let template = try dir.write("chat.mustache", """
            {"kind": "{{kind}}", "machine": "{{data.machine_id}}", "machines": [{{#machines}}"{{machine_id}}",{{/machines}}"end"],
             "lines": [{{#machines}}"{{line}}",{{/machines}}"end"], "headline": "{{headline}}"}
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
            [notify]
            group_wait = "5s"
            [[webhook]]
            name = "chat"
            url = "http://127.0.0.1:\(port)/slack"
            format = "slack"
            events = ["drifted", "in_sync", "unknown", "drift_changed"]
            [[webhook]]
            name = "teams"
            url = "http://127.0.0.1:\(port)/teams"
            format = "teams"
            events = ["drifted", "in_sync", "unknown", "drift_changed"]
            [[webhook]]
            name = "pager"
            url = "http://127.0.0.1:\(port)/pagerduty"
            format = "pagerduty"
            routing_key_file = "\(keyFile)"
            events = ["drifted", "in_sync", "unknown", "drift_changed"]
            [[webhook]]
            name = "tmpl"
            url = "http://127.0.0.1:\(port)/template"
            format = "template"
            template_file = "\(template)"
            events = ["drifted", "in_sync", "unknown", "drift_changed"]
            \(Self.machines.map { "[[machine]]\nid = \"\($0)\"" }.joined(separator: "\n"))
            """)
        let run = try ChildProcess(daemon, ["run", "--config", config, "--log-target", "stderr"], logDirectory: dir.path, name: "daemon")
        func received(_ path: String) -> [[String: Any]] {
            ReceiverFormatTests.received(log).filter { $0["path"] as? String == path }.compactMap { $0["body"] as? [String: Any] }
        }
        func text(_ value: Any) -> String {
            String(decoding: (try? JSONSerialization.data(withJSONObject: value)) ?? Data(), as: UTF8.self)
        }
        func pagerDuty(_ machine: String) -> [[String: Any]] {
            received("/pagerduty").filter { $0["dedup_key"] as? String == "akua-driftd/drift/" + machine }
        }
        do {
            try await eventually(timeout: .seconds(30), "every machine's first observation is recorded") {
                if !run.isRunning { throw HarnessError("the daemon exited: \(run.stderr)") }
                guard let database = try? AppDatabase.openReadOnly(path: statePath), let records = try? database.transitions() else { return false }
                return Set(records.map(\.transition.machineID)) == Set(Self.machines)
            }
            for machine in Self.machines { try simulator.control.setState(.drifted, machineID: machine) }
            try await eventually(timeout: .seconds(60), "Slack, Teams, the template and PagerDuty heard of every drifted machine") {
                if !run.isRunning { throw HarnessError("the daemon exited: \(run.stderr)") }
                let chats = ["/slack", "/teams", "/template"].map { path in received(path).map(text).joined() }
                return Self.machines.allSatisfy { machine in chats.allSatisfy { $0.contains(machine) } && !pagerDuty(machine).isEmpty }
            }
            let beforeChange = received("/slack").count
            try simulator.control.setDriftAttributes(["cpu", "image"], machineID: "mch_g1")
            try await eventually(timeout: .seconds(60), "the drift change reached Slack and PagerDuty") {
                if !run.isRunning { throw HarnessError("the daemon exited: \(run.stderr)") }
                let slack = received("/slack").dropFirst(beforeChange).map(text).joined()
                let pager = pagerDuty("mch_g1").map(text).joined()
                return slack.contains("drifted attributes changed") && pager.contains("drifted attributes changed")
            }
        } catch {
            await ReceiverFormatTests.abort(run, receiver, simulator)
            throw error
        }
        try await ReceiverFormatTests.stop(run, receiver, simulator)

        let all = ReceiverFormatTests.received(log)
        let rejected = all.filter { $0["accepted"] as? Bool != true }
        #expect(rejected.isEmpty, "rejected by the stand-in receivers: \(rejected.map { "\($0["path"] ?? "") \($0["errors"] ?? "")" })")
        // Three machines drifting within a second or two fall into at most two aligned 5 s windows: at most
        // two chat messages for the wave, where PagerDuty (never grouped) got one trigger per machine.
        let wave = received("/slack").filter { message in Self.machines.contains { text(message).contains($0) } && !text(message).contains("attributes changed") }
        #expect((1...2).contains(wave.count), "Slack got \(wave.count) messages for the drift of 3 machines: \(wave.map(text))")
        #expect(wave.contains { ($0["text"] as? String)?.contains("machines changed") == true }, "no grouped Slack message: \(wave.map(text))")
        for machine in Self.machines {
            let triggers = pagerDuty(machine).filter { $0["event_action"] as? String == "trigger" }
            #expect(!triggers.isEmpty, "PagerDuty: no trigger for \(machine)")
        }
        #expect(received("/pagerduty").allSatisfy { ($0["dedup_key"] as? String)?.hasPrefix("akua-driftd/group/") != true }, "PagerDuty got a group")
        let templates = received("/template")
        #expect(templates.contains { $0["kind"] as? String == "group" && ($0["machines"] as? [String])?.count ?? 0 >= 2 }, "\(templates)")
        // The template gets the group as it is (a group of one included): the change is its machine's line.
        #expect(templates.contains { ($0["lines"] as? [String])?.contains { $0.contains("drifted attributes changed (+image)") } == true },
                "the template never saw the drift change: \(templates)")
    }
}
