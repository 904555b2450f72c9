import AkuaSimulator
import DriftCore
import DriftStore
import Foundation
import Logging
import DriftTestSupport
import Testing

/// The real `akua-driftd run` process against the simulator and a webhook receiver over loopback, logging
/// to a real systemd-journald (in a private mount namespace), killed with SIGKILL and restarted mid-run.
@Suite("akua-driftd run, end to end", .serialized)
struct DaemonIntegrationTests {
    static let token = "sk_akua_integration_5f2c9d1e"
    static let secret = "whsec_" + Data("integration-test-secret-0123456789".utf8).base64EncodedString()

    @Test("every change is journaled once and delivered (same webhook-id, valid signature), across kill -9",
          .enabled(if: TestPreconditions.journalSandbox, TestPreconditions.journalSandboxReason))
    func transitionsSurviveKill() async throws {
        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory()
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: Self.token,
            machines: [
                SimulatedMachine(id: "mch_a", name: "web-1", scenario: .fixed(.inSync)),
                SimulatedMachine(id: "mch_b", name: "web-2", scenario: .fixed(.inSync)),
                SimulatedMachine(id: "mch_c", name: "db-1", scenario: .fixed(.drifted)),
            ],
            ttlSeconds: 60), logger: logger)
        let receiver = try await TestWebhookReceiver.start(secret: Self.secret)
        defer { Task { await receiver.shutdown(); await simulator.shutdown() } }

        let tokenFile = try dir.write("token", Self.token)
        let secretFile = try dir.write("webhook.secret", Self.secret)
        let statePath = dir.file("state.sqlite")
        let config = try dir.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            max_in_flight = 4
            [schedule]
            interval = "1s"
            refresh_before_expiry = "5s"
            catch_up_window = "1s"
            [state]
            path = "\(statePath)"
            [[webhook]]
            url = "\(receiver.url)"
            secret_file = "\(secretFile)"
            [[machine]]
            id = "mch_a"
            name = "web-1"
            [[machine]]
            id = "mch_b"
            name = "web-2"
            [[machine]]
            id = "mch_c"
            name = "db-1"
            """)

        func startDaemon(_ run: Int) async throws -> ChildProcess {
            let pidfile = dir.file("pid-\(run)")
            let sandbox = try ChildProcess(
                "/bin/bash",
                [PackagePaths.journalSandbox, "--timeout", "180", "--pidfile", pidfile, dir.file("journal-\(run).jsonl"), "--",
                 daemon, "run", "--config", config, "--log-target", "journal"],
                logDirectory: dir.path, name: "sandbox-\(run)")
            try await eventually(timeout: .seconds(30), "the daemon of run \(run) has started") {
                if !sandbox.isRunning { throw HarnessError("sandbox exited early: \(sandbox.stderr)") }
                return FileManager.default.fileExists(atPath: pidfile)
            }
            return sandbox
        }
        func daemonPID(_ run: Int) throws -> Int32 {
            let text = try String(contentsOfFile: dir.file("pid-\(run)"), encoding: .utf8)
            return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        func received(_ machine: String, _ state: String) -> Bool {
            receiver.deliveries.contains { $0.machineID == machine && $0.state == state }
        }
        func states() throws -> [String: String] {
            guard FileManager.default.fileExists(atPath: statePath) else { return [:] }
            let database = try AppDatabase.openReadOnly(path: statePath)
            return Dictionary(uniqueKeysWithValues: try database.machines().map { ($0.id, $0.state.rawValue) })
        }

        // Run 1: first observations, then a drift while running; then SIGKILL.
        let run1 = try await startDaemon(1)
        try await eventually(timeout: .seconds(30), "all three machines are observed") {
            (try? states()) == ["mch_a": "in_sync", "mch_b": "in_sync", "mch_c": "drifted"]
        }
        try simulator.control.setState(.drifted, machineID: "mch_a")
        try await eventually(timeout: .seconds(30), "the receiver got mch_a drifted") { received("mch_a", "drifted") }
        kill(try daemonPID(1), SIGKILL)
        let status1 = try await run1.waitForExit(timeout: .seconds(30))
        #expect(status1 == 128 + SIGKILL, "run 1 should die of SIGKILL: \(run1.stderr)")

        // While it is down, mch_b drifts; run 2 must announce that, and nothing it announced before.
        try simulator.control.setState(.drifted, machineID: "mch_b")
        let run2 = try await startDaemon(2)
        try await eventually(timeout: .seconds(30), "the receiver got mch_b drifted") { received("mch_b", "drifted") }
        try simulator.control.setState(.inSync, machineID: "mch_a")
        try await eventually(timeout: .seconds(30), "the receiver got mch_a back in sync") { received("mch_a", "in_sync") }
        run2.signal(SIGTERM)
        let status2 = try await run2.waitForExit(timeout: .seconds(30))
        #expect(status2 == 0, "run 2 should stop cleanly on SIGTERM: \(run2.stderr)")

        // The transition log is the truth the journal and the receiver are checked against.
        let database = try AppDatabase.open(path: statePath)
        #expect(try database.integrityCheck() == "ok")
        let log = try database.transitions()
        let sequence = Dictionary(grouping: log.map(\.transition), by: \.machineID).mapValues { $0.map { "\($0.previous.rawValue)>\($0.state.rawValue)" } }
        #expect(sequence["mch_a"] == ["unknown>in_sync", "in_sync>drifted", "drifted>in_sync"])
        #expect(sequence["mch_b"] == ["unknown>in_sync", "in_sync>drifted"])
        #expect(sequence["mch_c"] == ["unknown>drifted"])

        // Journal: each transition exactly once over both runs, with every DRIFT_* field.
        let journal = (readJournal(dir.file("journal-1.jsonl")) + readJournal(dir.file("journal-2.jsonl")))
            .filter { $0["SYSLOG_IDENTIFIER"] == "akua-driftd" }
        #expect(!journal.isEmpty, "no akua-driftd entries in the journal dumps")
        let announced = journal.filter { $0["DRIFT_EVENT_ID"] != nil && $0["DRIFT_STATE"] != nil }
        for record in log {
            let t = record.transition
            let entries = announced.filter { $0["DRIFT_EVENT_ID"] == t.eventID }
            #expect(entries.count == 1, "\(t.machineID) \(t.previous)>\(t.state) journaled \(entries.count) times")
            guard let entry = entries.first else { continue }
            #expect(entry["DRIFT_MACHINE_ID"] == t.machineID)
            #expect(entry["DRIFT_MACHINE_NAME"] == t.machineName)
            #expect(entry["DRIFT_STATE"] == t.state.rawValue)
            #expect(entry["DRIFT_PREVIOUS_STATE"] == t.previous.rawValue)
            #expect(entry["DRIFT_REPORT_ID"] == t.report?.id)
            #expect(entry["DRIFT_EXPIRES_AT"] == t.report.map { String($0.expiresAt) })
            #expect(entry["MESSAGE_ID"] == [DriftState.drifted: "dc7614e992424aadb1f508c0d9b24d0e", .inSync: "f2820db539934d1892130bf0c79eee4b", .unknown: "1377544151bc43caa53d7384358c33ad"][t.state])
            #expect(entry["PRIORITY"] == (t.state == .inSync ? "5" : "4"))
            #expect(entry["CODE_FILE"] != nil && entry["CODE_LINE"] != nil && entry["CODE_FUNC"] != nil)
            #expect(entry["MESSAGE"]?.contains(t.machineID) == true)
            // Every promised field, DRIFT_CAUSE and DRIFT_ATTRIBUTES included.
            let problems = TransitionOracle.journalProblems(entry, t)
            #expect(problems.isEmpty, "\(problems.joined(separator: "; "))")
        }
        #expect(announced.count == log.count, "journal has \(announced.count) transition entries for \(log.count) transitions")

        // Webhooks: every wanted transition at least once, same id, same body, valid signature, in order.
        let wanted = log.map(\.transition).filter { !$0.firstObservation || $0.state == .drifted }
        let deliveries = receiver.deliveries
        #expect(deliveries.allSatisfy { $0.signatureValid }, "a delivery had an invalid signature")
        // Every body received: valid against deploy/webhook-payload.schema.json (independent validator) and equal,
        // field by field, to its transition.
        receiver.recordProblems()
        #expect(!receiver.attempts.isEmpty)
        for attempt in receiver.attempts {
            guard let t = log.map(\.transition).first(where: { $0.eventID == attempt.webhookID }) else {
                Issue.record("the receiver got webhook-id \(attempt.webhookID), which is not in the transition log")
                continue
            }
            let problems = TransitionOracle.payloadProblems(attempt.body, t)
            #expect(problems.isEmpty, "\(problems.joined(separator: "; "))")
        }
        #expect(deliveries.allSatisfy { $0.id == $0.eventID }, "webhook-id must be the event id")
        for t in wanted {
            #expect(deliveries.contains { $0.id == t.eventID }, "\(t.machineID) \(t.previous)>\(t.state) never reached the receiver")
        }
        #expect(Set(deliveries.map(\.id)).isSubset(of: Set(wanted.map(\.eventID))), "the receiver got an event that is not a wanted transition (re-announcement?)")
        for (id, group) in Dictionary(grouping: deliveries, by: \.id) {
            #expect(Set(group.map(\.body)).count == 1, "event \(id) was delivered with different bodies")
        }
        for machine in ["mch_a", "mch_b", "mch_c"] {
            let order = wanted.filter { $0.machineID == machine }.map(\.eventID)
            var firstSeen: [String] = []
            for delivery in deliveries where delivery.machineID == machine && !firstSeen.contains(delivery.id) { firstSeen.append(delivery.id) }
            #expect(firstSeen == order, "deliveries for \(machine) out of order")
        }

        // The simulator never created two reports for one idempotency key.
        let stats = simulator.control.stats()
        #expect(stats.createsTotal > 0)
        #expect(stats.reportsByKey.values.allSatisfy { $0 == 1 }, "an idempotency key created more than one report")
        #expect(stats.conflictsTotal == 0)

        // status --json reads the state file; it exits like a monitoring plugin: 1 while any machine is drifted
        // (mch_b and mch_c are).
        let status = try ChildProcess(daemon, ["status", "--json", "--state", statePath], logDirectory: dir.path, name: "status")
        #expect(try await status.waitForExit(timeout: .seconds(30)) == 1)
        let rows = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.count == 3)
        for row in rows {
            for key in ["machine_id", "name", "state", "report_id", "expires_at", "last_checked_at", "last_error"] {
                #expect(row.keys.contains(key), "status --json lacks \(key)")
            }
        }
    }
}
