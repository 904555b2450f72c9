import AkuaSimulator
import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// The notification policy (issue 11 §2) through the real `akua-driftd run` process, the simulator and a
/// receiver: confirmation and grouping survive `kill -9` inside their windows without losing or repeating a
/// message, two replicas give reminders and groups the same event ids, and drift_changed / ignore_attributes /
/// silences do what the README says. The oracle is the transition log (what changed, with its ids) and the
/// Standard Webhooks bodies as received; ids are derived as the README documents them.
@Suite("Notification policy (real daemon)", .serialized)
struct NotifyPolicyTests {
    static let token = "sk_akua_notify_" + String(UInt64.random(in: 1...UInt64.max), radix: 36)

    /// One received body, parsed: its type, event id, and for a group the members' (type, id, machine, state).
    struct Received {
        var type: String
        var eventID: String
        var machineID: String
        var state: String
        var members: [Received]
        var raw: [String: Any]

        init(_ body: [UInt8]) {
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
            let data = object["data"] as? [String: Any] ?? [:]
            type = object["type"] as? String ?? ""
            eventID = data["event_id"] as? String ?? ""
            machineID = data["machine_id"] as? String ?? ""
            state = data["state"] as? String ?? ""
            raw = data
            members = (data["events"] as? [[String: Any]] ?? []).map {
                Received(Array((try? JSONSerialization.data(withJSONObject: $0)) ?? Data()))
            }
        }
    }

    /// A world of one simulator, one receiver and a config; daemons are started and killed on it.
    final class World {
        let dir: TemporaryDirectory
        let simulator: SimulatorServer
        let receivers: [TestWebhookReceiver]
        let daemon: String
        var processes: [ChildProcess] = []
        var runs = 0

        init(_ name: String, machines: [String], initial: ReportStateName, receivers count: Int = 1, seed: UInt64) async throws {
            dir = try TemporaryDirectory("akua-reliability-notify-\(name)")
            daemon = try PackagePaths.binary("akua-driftd")
            simulator = try await SimulatorServer.start(options: SimulatorOptions(
                token: NotifyPolicyTests.token,
                machines: machines.map { SimulatedMachine(id: $0, name: "name-\($0)", scenario: .fixed(initial)) },
                ttlSeconds: 30, seed: seed))
            var started: [TestWebhookReceiver] = []
            for _ in 0..<count { started.append(try await TestWebhookReceiver.start(secret: WebhookChecks.secret)) }
            receivers = started
        }

        /// A config for replica `replica` (its own state file and receiver), with `notify` added to `[notify]`
        /// and `webhook` to the `[[webhook]]` table.
        func config(replica: Int = 0, notify: String, webhook: String = "", machines: [String], extra: String = "") throws -> String {
            let tokenFile = try dir.write("token", NotifyPolicyTests.token)
            let secretFile = try dir.write("webhook.secret", WebhookChecks.secret)
            return try dir.write("config-\(replica).toml", """
                [api]
                base_url = "\(simulator.baseURL)"
                token_file = "\(tokenFile)"
                timeout = "2s"
                [schedule]
                interval = "1s"
                refresh_before_expiry = "2s"
                catch_up_window = "100ms"
                [state]
                path = "\(statePath(replica))"
                [notify]
                \(notify)
                [[webhook]]
                url = "\(receivers[replica].url)"
                secret_file = "\(secretFile)"
                timeout = "2s"
                \(webhook)
                """ + machines.map { "\n[[machine]]\nid = \"\($0)\"\nname = \"name-\($0)\"" }.joined() + "\n" + extra)
        }

        func statePath(_ replica: Int = 0) -> String { dir.file("state-\(replica).sqlite") }

        @discardableResult
        func start(_ config: String) throws -> ChildProcess {
            runs += 1
            let process = try ChildProcess(
                daemon, ["run", "--config", config, "--log-target", "stderr", "--log-level", "debug"],
                logDirectory: dir.path, name: "daemon-\(runs)")
            processes.append(process)
            return process
        }

        func transitions(_ replica: Int = 0) -> [Transition] {
            (try? AppDatabase.openReadOnly(path: statePath(replica)).transitions().map(\.transition)) ?? []
        }

        func state(_ machineID: String, _ replica: Int = 0) -> DriftState? {
            (try? AppDatabase.openReadOnly(path: statePath(replica)).machine(id: machineID))??.state
        }

        /// Every body received by replica `replica`'s receiver, first arrival per webhook-id (a redelivery after
        /// a kill between sending and recording is the same message, as Standard Webhooks allows).
        func received(_ replica: Int = 0) -> [Received] {
            var seen = Set<String>()
            return receivers[replica].deliveries.filter { seen.insert($0.id).inserted }.map { Received($0.body) }
        }

        func stop() async {
            for process in processes where process.isRunning {
                process.signal(SIGTERM)
                _ = try? await process.waitForExit(timeout: .seconds(20))
            }
            for receiver in receivers { await receiver.shutdown() }
            await simulator.shutdown()
        }

        func fail(_ error: any Error) async throws -> Never {
            for process in processes where process.isRunning { process.signal(SIGKILL) }
            for receiver in receivers { await receiver.shutdown() }
            await simulator.shutdown()
            throw error
        }
    }

    static let groupType = "machine.drift.group"
    static let transitionType = "machine.drift.transition"
    static let reminderType = "machine.drift.reminder"

    /// The id of reminder `n` of the announced transition `eventID`, as the README documents it ("evt_" and the
    /// first 32 hex digits of the SHA-256 of the transition's id, "reminder" and n joined by NUL bytes),
    /// computed by Python's hashlib rather than by the daemon's own code.
    static func reminderID(_ eventID: String, _ n: Int, dir: TemporaryDirectory) async throws -> String {
        let script = "import hashlib, sys; print('evt_' + hashlib.sha256(b'\\0'.join(a.encode() for a in sys.argv[1:])).hexdigest()[:32])"
        let run = try await ChildProcess.run("/usr/bin/python3", ["-c", script, eventID, "reminder", String(n)], logDirectory: dir.path, name: "reminder-id")
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("confirm = 3: a drift is announced once, after three reports agree, with the transition's id; kill -9 inside the window loses and repeats nothing; a flap inside the window announces nothing")
    func confirmationAcrossKills() async throws {
        let seed = ReliabilitySeed.seed("notify confirm kill -9", default: 0xC0F1)
        var random = SeededRandom(seed: seed)
        let machine = "mch_confirm"
        let world = try await World("confirm", machines: [machine], initial: .inSync, seed: seed)
        do {
            let config = try world.config(notify: "confirm = 3", machines: [machine])
            var daemon = try world.start(config)
            try await eventually(timeout: .seconds(15), "the machine is first seen in sync") { world.state(machine) == .inSync }
            // A flap shorter than three reports: drifted for about one report, then back.
            try world.simulator.control.setState(.drifted, machineID: machine)
            try await eventually(timeout: .seconds(10), "the flap is observed") { world.state(machine) == .drifted }
            try world.simulator.control.setState(.inSync, machineID: machine)
            try await eventually(timeout: .seconds(10), "the flap ends") { world.state(machine) == .inSync }
            try await Task.sleep(for: .seconds(4))
            #expect(world.received().isEmpty, "a flap inside the confirmation window announced \(world.received().map(\.state))")

            // A lasting drift, with kill -9 at seeded instants while it is unconfirmed.
            try world.simulator.control.setState(.drifted, machineID: machine)
            try await eventually(timeout: .seconds(10), "the drift is observed") { world.state(machine) == .drifted }
            for _ in 0..<2 {
                try await Task.sleep(for: .milliseconds(random.int(50...900)))
                daemon.signal(SIGKILL)
                _ = try await daemon.waitForExit(timeout: .seconds(10))
                daemon = try world.start(config)
            }
            let drift = try #require(world.transitions().last { $0.machineID == machine && $0.state == .drifted })
            try await eventually(timeout: .seconds(20), "the drift is announced") { world.received().contains { $0.state == "drifted" } }
            try await Task.sleep(for: .seconds(3))
            let announced = world.received().filter { $0.type == Self.transitionType }
            #expect(announced.map(\.eventID) == [drift.eventID], "seed \(seed): expected exactly the drift \(drift.eventID), got \(announced.map { "\($0.state) \($0.eventID)" })")
            await world.stop()
        } catch {
            try await world.fail(error)
        }
    }

    @Test("group_wait: five machines drifting together are one message listing each change once; kill -9 inside the group window loses and repeats nothing")
    func groupAcrossKills() async throws {
        let seed = ReliabilitySeed.seed("notify group kill -9", default: 0x6A0F)
        var random = SeededRandom(seed: seed)
        let machines = (1...5).map { "mch_group_\($0)" }
        let world = try await World("group", machines: machines, initial: .inSync, seed: seed)
        do {
            let config = try world.config(notify: "", webhook: "group_wait = \"4s\"", machines: machines)
            var daemon = try world.start(config)
            try await eventually(timeout: .seconds(15), "every machine is first seen") { machines.allSatisfy { world.state($0) == .inSync } }
            for machine in machines { try world.simulator.control.setState(.drifted, machineID: machine) }
            try await eventually(timeout: .seconds(10), "a drift is observed") { machines.contains { world.state($0) == .drifted } }
            try await Task.sleep(for: .milliseconds(random.int(0...1_500)))
            daemon.signal(SIGKILL)
            _ = try await daemon.waitForExit(timeout: .seconds(10))
            daemon = try world.start(config)
            try await eventually(timeout: .seconds(15), "every drift is recorded") { machines.allSatisfy { world.state($0) == .drifted } }
            let drifts = Set(world.transitions().filter { $0.state == .drifted }.map(\.eventID))
            try await eventually(timeout: .seconds(20), "every drift reaches the receiver in a group") {
                Set(world.received().flatMap(\.members).map(\.eventID)).isSuperset(of: drifts)
            }
            try await Task.sleep(for: .seconds(5))
            let received = world.received()
            #expect(received.allSatisfy { $0.type == Self.groupType }, "seed \(seed): not all messages were groups: \(received.map(\.type))")
            let members = received.flatMap(\.members).map(\.eventID)
            #expect(members.count == Set(members).count, "seed \(seed): a change was listed in two messages: \(members)")
            #expect(Set(members) == drifts, "seed \(seed): groups listed \(Set(members)), the log has \(drifts)")
            // Changes observed within one aligned window are one message (two when they straddle a boundary).
            #expect((1...2).contains(received.count), "seed \(seed): \(received.count) messages for five changes")
            await world.stop()
        } catch {
            try await world.fail(error)
        }
    }

    @Test("two replicas (own state files, same API): the same reminders and groups under the same event ids")
    func replicasAgree() async throws {
        let seed = ReliabilitySeed.seed("notify replicas", default: 0x2E91)
        let machines = ["mch_rep_1", "mch_rep_2", "mch_rep_3"]
        let world = try await World("replicas", machines: machines, initial: .inSync, receivers: 2, seed: seed)
        do {
            let remind = "repeat_interval = \"3s\""
            let configs = try (0..<2).map { try world.config(replica: $0, notify: remind, webhook: "group_wait = \"2s\"", machines: machines) }
            for config in configs { try world.start(config) }
            try await eventually(timeout: .seconds(15), "both replicas see every machine") {
                (0..<2).allSatisfy { replica in machines.allSatisfy { world.state($0, replica) == .inSync } }
            }
            for machine in machines { try world.simulator.control.setState(.drifted, machineID: machine) }
            try await eventually(timeout: .seconds(30), "both replicas send two reminders per machine") {
                (0..<2).allSatisfy { replica in
                    world.received(replica).flatMap { [$0] + $0.members }.filter { $0.type == Self.reminderType }.count >= 2 * machines.count
                }
            }
            await world.stop()
            let ids = (0..<2).map { replica in Set(world.received(replica).map(\.eventID)) }
            let reminders = (0..<2).map { replica in
                Set(world.received(replica).flatMap { [$0] + $0.members }.filter { $0.type == Self.reminderType }.map(\.eventID))
            }
            // Compare what both had time to send: every reminder id is derived from its transition and number.
            let drifts = world.transitions(0).filter { $0.state == .drifted }
            #expect(Set(drifts.map(\.eventID)) == Set(world.transitions(1).filter { $0.state == .drifted }.map(\.eventID)),
                    "the replicas logged different transitions")
            for drift in drifts {
                for n in 1...2 {
                    let id = try await Self.reminderID(drift.eventID, n, dir: world.dir)
                    #expect(reminders[0].contains(id) && reminders[1].contains(id), "seed \(seed): reminder \(n) of \(drift.machineID) \(id) missing on a replica")
                }
            }
            let shared = ids[0].intersection(ids[1])
            #expect(shared.count >= min(ids[0].count, ids[1].count) - 1,
                    "seed \(seed): group ids differ between replicas: \(ids[0].symmetricDifference(ids[1]))")
        } catch {
            try await world.fail(error)
        }
    }

    @Test("drift_changed and ignore_attributes: a new set of differing attributes is its own event; differences only in ignored attributes announce in_sync")
    func changedAndIgnored() async throws {
        let seed = ReliabilitySeed.seed("notify changed and ignored", default: 0xD1FF)
        let changing = "mch_changing", ignored = "mch_ignored"
        let world = try await World("changed", machines: [changing, ignored], initial: .inSync, seed: seed)
        do {
            let config = try world.config(
                notify: "ignore_attributes = [\"memory_mb\"]",
                webhook: "events = [\"drifted\", \"in_sync\", \"unknown\", \"drift_changed\"]", machines: [changing, ignored])
            try world.simulator.control.setDriftAttributes(["cpu"], machineID: changing)
            try world.simulator.control.setDriftAttributes(["memory_mb"], machineID: ignored)
            try world.start(config)
            try await eventually(timeout: .seconds(15), "both machines are first seen") { world.state(changing) == .inSync && world.state(ignored) == .inSync }
            try world.simulator.control.setState(.drifted, machineID: changing)
            try world.simulator.control.setState(.drifted, machineID: ignored)
            try await eventually(timeout: .seconds(15), "the cpu drift is announced") {
                world.received().contains { $0.machineID == changing && $0.state == "drifted" }
            }
            try world.simulator.control.setDriftAttributes(["cpu", "image"], machineID: changing)
            try await eventually(timeout: .seconds(15), "the changed set is announced") {
                world.received().contains { $0.type == "machine.drift.changed" && $0.machineID == changing }
            }
            try await Task.sleep(for: .seconds(2))
            let received = world.received()
            let changed = received.filter { $0.type == "machine.drift.changed" }
            #expect(changed.count == 1, "one change of attributes, \(changed.count) changed events")
            #expect((changed.first?.raw["attributes"] as? [String]) == ["cpu", "image"])
            #expect((changed.first?.raw["previous_attributes"] as? [String]) == ["cpu"])
            // The raw state is kept: the machine row says drifted; nothing about it was sent.
            #expect(world.state(ignored) == .drifted)
            #expect(!received.contains { $0.machineID == ignored }, "a difference only in memory_mb was announced: \(received.filter { $0.machineID == ignored }.map(\.state))")
            await world.stop()
        } catch {
            try await world.fail(error)
        }
    }

    @Test("[[maintenance]] in force now (a window in Asia/Kathmandu, UTC+05:45): a drift of a machine it names is recorded but not sent, status names the window; a machine it does not name is sent")
    func maintenanceWindow() async throws {
        let seed = ReliabilitySeed.seed("notify maintenance window", default: 0x3A17)
        let inWindow = "mch_maint_in", outside = "mch_maint_out"
        let world = try await World("maintenance", machines: [inWindow, outside], initial: .inSync, seed: seed)
        do {
            // The local wall time in Kathmandu now, from Foundation's calendar (not the daemon's window code):
            // a window from an hour ago to an hour ahead on every day holds now, whatever the day.
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = try #require(TimeZone(identifier: "Asia/Kathmandu"))
            let parts = calendar.dateComponents([.hour, .minute], from: Date())
            let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
            func hhmm(_ m: Int) -> String { let m = (m + 1440) % 1440; return String(format: "%02d:%02d", m / 60, m % 60) }
            let window = """
                [[maintenance]]
                machines = ["\(inWindow)"]
                days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                from = "\(hhmm(minute - 60))"
                to = "\(hhmm(minute + 60))"
                timezone = "Asia/Kathmandu"
                """
            let config = try world.config(notify: "", machines: [inWindow, outside], extra: window)
            try world.start(config)
            try await eventually(timeout: .seconds(15), "both machines are first seen") { world.state(inWindow) == .inSync && world.state(outside) == .inSync }
            try world.simulator.control.setState(.drifted, machineID: inWindow)
            try world.simulator.control.setState(.drifted, machineID: outside)
            try await eventually(timeout: .seconds(15), "the drift outside the window is sent") {
                world.received().contains { $0.machineID == outside && $0.state == "drifted" }
            }
            try await eventually(timeout: .seconds(10), "the drift inside the window is recorded") { world.state(inWindow) == .drifted }
            try await Task.sleep(for: .seconds(2))
            #expect(!world.received().contains { $0.machineID == inWindow }, "a drift inside the maintenance window was sent")
            let status = try await ChildProcess.run(world.daemon, ["status", "--json", "--config", config], logDirectory: world.dir.path, name: "status")
            let rows = (try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8))) as? [[String: Any]] ?? []
            let row = rows.first { $0["machine_id"] as? String == inWindow }
            #expect((row?["muted_by"] as? String)?.contains("maintenance window 1") == true, "status --json: \(status.stdout.prefix(800)) \(status.stderr)")
            #expect(rows.first { $0["machine_id"] as? String == outside }?["muted_by"] == nil || rows.first { $0["machine_id"] as? String == outside }?["muted_by"] is NSNull)
            await world.stop()
        } catch {
            try await world.fail(error)
        }
    }

    @Test("silence add / remove against the running daemon: a silenced drift is journaled with DRIFT_SILENCED=1 and not sent; once removed, the current state is sent",
          .enabled(if: TestPreconditions.journalSandbox, TestPreconditions.journalSandboxReason))
    func silenceThroughTheCLI() async throws {
        let seed = ReliabilitySeed.seed("notify silence", default: 0x511E)
        let machine = "mch_silenced"
        let world = try await World("silence", machines: [machine], initial: .inSync, seed: seed)
        do {
            let config = try world.config(notify: "", machines: [machine])
            let pidFile = world.dir.file("pid"), journalPath = world.dir.file("journal.jsonl")
            let sandbox = try ChildProcess(
                "/bin/bash", [PackagePaths.journalSandbox, "--timeout", "120", "--pidfile", pidFile, journalPath, "--",
                              world.daemon, "run", "--config", config, "--log-target", "journal"],
                logDirectory: world.dir.path, name: "sandbox")
            world.processes.append(sandbox)
            try await eventually(timeout: .seconds(20), "the machine is first seen") { world.state(machine) == .inSync }
            let add = try await ChildProcess.run(
                world.daemon, ["silence", "add", "--machine", machine, "--for", "10m", "--reason", "planned work", "--config", config],
                logDirectory: world.dir.path, name: "silence-add")
            #expect(add.status == 0, "silence add failed: \(add.stderr)")
            let silenceID = try #require(add.stdout.firstMatch(of: /sil_[0-9a-f]{12}/).map { String($0.output) }, "no silence id in: \(add.stdout)")
            try world.simulator.control.setState(.drifted, machineID: machine)
            try await eventually(timeout: .seconds(15), "the drift is recorded") { world.state(machine) == .drifted }
            // The transition and its outbox rows commit together: two more checks later, nothing was queued.
            try await Task.sleep(for: .seconds(2))
            #expect(world.received().isEmpty, "a silenced drift was sent")
            let remove = try await ChildProcess.run(
                world.daemon, ["silence", "remove", silenceID, "--config", config], logDirectory: world.dir.path, name: "silence-remove")
            #expect(remove.status == 0, "silence remove failed: \(remove.stderr)")
            let drift = try #require(world.transitions().last { $0.state == .drifted })
            try await eventually(timeout: .seconds(15), "the current state is sent once the silence is removed") {
                world.received().contains { $0.eventID == drift.eventID && $0.state == "drifted" }
            }
            if let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                kill(pid, SIGTERM)
            }
            _ = try await sandbox.waitForExit(timeout: .seconds(30))
            // The sandbox writes the journal out when its command exits.
            let entries = readJournal(journalPath).filter { $0["DRIFT_MACHINE_ID"] == machine && $0["DRIFT_STATE"] == "drifted" && $0["DRIFT_EVENT_ID"] == drift.eventID }
            #expect(entries.count == 1 && entries.first?["DRIFT_SILENCED"] == "1",
                    "the silenced drift should be journaled once with DRIFT_SILENCED=1: \(entries)")
            #expect(entries.first?["DRIFT_SILENCE_REASON"]?.contains("planned work") == true)
            await world.stop()
        } catch {
            try await world.fail(error)
        }
    }
}
