import DriftConfig
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// `akua-driftd silence add|list|remove` and what `status` adds for the notification policy, on the real
/// binary (README, "Silences"): the state file as `status` finds it, SIGUSR1 to the running daemon.
@Suite("akua-driftd silence and the policy in status", .serialized)
struct SilenceCommandTests {
    typealias CLIResult = (status: Int32, stdout: String, stderr: String)

    func cli(_ arguments: [String], _ directory: TemporaryDirectory, environment: [String: String] = [:]) async throws -> CLIResult {
        var env = ["PATH": "/usr/bin:/bin"]
        env.merge(environment) { $1 }
        return try await ChildProcess.run(
            try PackagePaths.binary("akua-driftd"), arguments, environment: env, logDirectory: directory.path, name: "cli")
    }

    /// A state file with machines `ids`, as a daemon that ran once leaves it; closed again.
    /// `drifted` machines with their deltas; the others in_sync.
    func stateFile(_ directory: TemporaryDirectory, _ ids: [String], drifted: [String: [String: JSONValue]] = [:]) throws -> String {
        let path = directory.file("state.sqlite")
        let database = try AppDatabase.open(path: path)
        try database.configureMachines(ids.map { ($0, nil) })
        let now = SystemClock().nowMs()
        for id in ids {
            let delta = drifted[id]
            let state: ReportState = delta == nil ? .inSync : .drifted
            let report = DriftReport(
                id: "rpt_\(id)", machineID: id, state: state, etag: "\"e\"", createdAt: now / 1000, startedAt: now / 1000,
                expiresAt: now / 1000 + 900, delta: delta, providerSnapshot: nil)
            let transition = Transition(
                machineID: id, machineName: nil, previous: .unknown, state: state.driftState, cause: .report, report: report, at: now,
                firstObservation: true)
            _ = try database.record([CheckRecord(machineID: id, checkedAt: now, report: report, transition: transition)])
        }
        return path
    }

    func listJSON(_ arguments: [String], _ directory: TemporaryDirectory) async throws -> [[String: Any]] {
        let result = try await cli(["silence", "list", "--json"] + arguments, directory)
        #expect(result.status == 0, "\(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], "\(result.stdout)")
    }

    static func silenceID(in text: String) -> String? {
        text.range(of: "sil_[0-9a-f]{12}", options: .regularExpression).map { String(text[$0]) }
    }

    // MARK: Without a daemon

    @Test("add --all --for, list, list --json, remove, list --all; no daemon: it says the silence applies when akua-driftd starts")
    func addListRemove() async throws {
        let directory = try TemporaryDirectory("akua-driftd-silence")
        let state = try stateFile(directory, ["mch_a", "mch_b"])
        let common = ["--state", state, "--config", directory.file("no-config.toml")]
        let before = Int64(Date().timeIntervalSince1970)
        let added = try await cli(["silence", "add", "--all", "--for", "2h", "--reason", "database migration"] + common, directory,
                                  environment: ["SUDO_USER": "carol"])
        let after = Int64(Date().timeIntervalSince1970)
        #expect(added.status == 0, "\(added)")
        let id = try #require(Self.silenceID(in: added.stdout), "add prints the id: \(added.stdout)")
        #expect(added.stdout.contains("every machine") && added.stdout.contains("2h"), "and the window: \(added.stdout)")
        #expect(added.stdout.contains("not running") && added.stdout.contains("applies when akua-driftd starts"), "\(added.stdout)")

        let table = try await cli(["silence", "list"] + common, directory)
        #expect(table.status == 0)
        let header = try #require(table.stdout.split(separator: "\n").first)
        #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["ID", "MACHINES", "FROM", "UNTIL", "REMAINING", "REASON", "BY"])
        #expect(table.stdout.contains(id) && table.stdout.contains("database migration") && table.stdout.contains("carol"), "\(table.stdout)")

        let rows = try await listJSON(common, directory)
        let row = try #require(rows.first)
        #expect(rows.count == 1)
        #expect(row["id"] as? String == id)
        #expect(row["machines"] is NSNull, "null: every machine")
        #expect(row["created_by"] as? String == "carol", "SUDO_USER wins")
        #expect(row["state"] as? String == "active")
        let starts = try #require(row["starts_at"] as? Int64), ends = try #require(row["ends_at"] as? Int64)
        #expect(starts >= before && starts <= after, "starts now")
        #expect(ends - starts >= 7199 && ends - starts <= 7200, "2h: \(ends - starts)")

        let removed = try await cli(["silence", "remove", id] + common, directory)
        #expect(removed.status == 0 && removed.stdout.contains("\(id) removed"), "\(removed)")
        #expect(try await listJSON(common, directory).isEmpty, "a removed silence is not listed")
        let all = try await listJSON(["--all"] + common, directory)
        #expect(all.count == 1 && all.first?["state"] as? String == "removed" && all.first?["removed_at"] as? Int64 != nil)

        let again = try await cli(["silence", "remove", id] + common, directory)
        #expect(again.status == 1 && again.stderr.contains("already removed"), "\(again)")
        let unknown = try await cli(["silence", "remove", "sil_0123456789ab"] + common, directory)
        #expect(unknown.status == 1 && unknown.stderr.contains("no silence with id sil_0123456789ab"), "\(unknown)")
    }

    @Test("--until: RFC 3339 with an offset, and YYYY-MM-DD HH:MM in local time ($TZ), across DST; --machine ids not in the config warn")
    func untilAndMachines() async throws {
        let directory = try TemporaryDirectory("akua-driftd-silence")
        let state = try stateFile(directory, ["mch_a"])
        let config = try directory.write("config.toml", "[state]\npath = \"\(state)\"\n[[machine]]\nid = \"mch_a\"\n")
        // Expected instants from Python (datetime.fromisoformat / zoneinfo), not from this code.
        let cases: [(String, String, Int64)] = [
            ("2099-12-01T09:00:00+01:00", "UTC", 4_099_795_200),
            ("2099-12-01t08:00:00z", "UTC", 4_099_795_200),
            ("2099-07-01 10:00", "Europe/Berlin", 4_086_576_000),
            ("2099-01-15 10:00", "America/New_York", 4_072_172_400),
        ]
        for (text, zone, expected) in cases {
            let added = try await cli(["silence", "add", "--machine", "mch_a", "mch_new", "--until", text, "--reason", "r", "--config", config],
                                      directory, environment: ["TZ": zone])
            #expect(added.status == 0, "\(text): \(added)")
            #expect(added.stderr.contains("warning") && added.stderr.contains("mch_new") && !added.stderr.contains("mch_a,"),
                    "only the unknown id is named: \(added.stderr)")
            let id = try #require(Self.silenceID(in: added.stdout))
            let row = try #require(try await listJSON(["--config", config], directory).first { $0["id"] as? String == id })
            #expect(row["ends_at"] as? Int64 == expected, "\(text) in \(zone)")
            #expect(row["machines"] as? [String] == ["mch_a", "mch_new"])
        }
    }

    @Test("refused with a usage error (64): past --until, zero or negative --for, no or empty --reason, --machine with --all, neither, --for with --until, bad times")
    func refusals() async throws {
        let directory = try TemporaryDirectory("akua-driftd-silence")
        let state = try stateFile(directory, ["mch_a"])
        let common = ["--state", state, "--config", directory.file("no-config.toml")]
        let bad: [[String]] = [
            ["--all", "--until", "2001-01-01T00:00:00Z", "--reason", "r"],
            ["--all", "--for", "0s", "--reason", "r"],
            ["--all", "--for", "0", "--reason", "r"],
            ["--all", "--for", "-1h", "--reason", "r"],
            ["--all", "--for", "2h"],
            ["--all", "--for", "2h", "--reason", "  "],
            ["--all", "--machine", "mch_a", "--for", "2h", "--reason", "r"],
            ["--for", "2h", "--reason", "r"],
            ["--all", "--reason", "r"],
            ["--all", "--for", "2h", "--until", "2099-01-01T00:00:00Z", "--reason", "r"],
            ["--all", "--until", "tomorrow", "--reason", "r"],
            ["--all", "--until", "2099-02-30 10:00", "--reason", "r"],
            ["--all", "--until", "2099-13-01T00:00:00Z", "--reason", "r"],
        ]
        for arguments in bad {
            let result = try await cli(["silence", "add"] + arguments + common, directory)
            #expect(result.status == 64, "\(arguments): \(result)")
            #expect(!result.stderr.isEmpty)
        }
        #expect(try await listJSON(common, directory).isEmpty, "nothing was stored")
        // A state file that does not exist is neither created nor silently replaced.
        let missing = directory.file("missing.sqlite")
        let result = try await cli(["silence", "add", "--all", "--for", "1h", "--reason", "r", "--state", missing], directory)
        #expect(result.status == 1 && result.stderr.contains(missing), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test("bash completion: silence add --machine offers the config's machine ids, silence remove the active and upcoming silence ids",
          .enabled(if: TestPreconditions.tool("bash") != nil, "needs bash"))
    func bashCompletion() async throws {
        let binary = try PackagePaths.binary("akua-driftd")
        let directory = try TemporaryDirectory("akua-driftd-silence")
        let state = try stateFile(directory, ["mch_web1"])
        let config = try directory.write("fleet.toml", "[[machine]]\nid = \"mch_web1\"\n[[machine]]\nid = \"mch_web2\"\n[[machine]]\nid = \"mch_db1\"\n")
        let common = ["--state", state, "--config", config]
        let kept = try #require(Self.silenceID(in: try await cli(["silence", "add", "--all", "--for", "1h", "--reason", "k"] + common, directory).stdout))
        let gone = try #require(Self.silenceID(in: try await cli(["silence", "add", "--all", "--for", "1h", "--reason", "g"] + common, directory).stdout))
        #expect(try await cli(["silence", "remove", gone] + common, directory).status == 0)
        let bin = directory.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin + "/akua-driftd", withDestinationPath: binary)
        let script = TestPreconditions.run(binary, ["--generate-completion-script", "bash"])
        #expect(script.status == 0)
        let scriptFile = try directory.write("akua-driftd.bash", script.output)
        let driver = """
            export PATH="$1:$PATH"; source "$2"
            complete() {
                COMP_LINE=$1; COMP_POINT=${#1}; read -ra COMP_WORDS <<< "$1"
                [[ $1 == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
                _akua-driftd akua-driftd "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
                printf '%s\\n' "${COMPREPLY[@]}" | sort
            }
            echo "machines:"; complete "akua-driftd silence add --config \(config) --machine mch_web"
            echo "ids:"; complete "akua-driftd silence remove --state \(state) --config \(config) "
            """
        let result = TestPreconditions.run(TestPreconditions.tool("bash")!, ["-c", driver, "bash", bin, scriptFile])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == "machines:\nmch_web1\nmch_web2\nids:\n\(kept)\n", "the removed \(gone) is not offered")
    }

    // MARK: status

    @Test("status and status --json show the silences, the maintenance windows in force and the ignored attributes (exit 0 when only ignored ones differ)")
    func statusShowsThePolicy() async throws {
        let directory = try TemporaryDirectory("akua-driftd-silence")
        let state = try stateFile(directory, ["mch_a", "mch_b", "mch_c"], drifted: [
            "mch_a": ["cpu": .number(4), "memory_mb": .number(1)], "mch_b": ["cpu": .number(2)],
        ])
        // Two overlapping daily windows: one of them is in force at any instant.
        let config = try directory.write("config.toml", """
            [state]
            path = "\(state)"
            [notify]
            ignore_attributes = ["cpu"]
            [[maintenance]]
            machines = ["mch_c"]
            days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            from = "00:00"
            to = "23:00"
            [[maintenance]]
            machines = ["mch_c"]
            days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            from = "22:00"
            to = "01:00"
            [[machine]]
            id = "mch_a"
            ignore_attributes = ["memory_mb"]
            [[machine]]
            id = "mch_b"
            [[machine]]
            id = "mch_c"

            """)
        let check = try await cli(["check-config", "--config", config], directory, environment: ["AKUA_API_TOKEN": "sk_test"])
        try #require(check.status == 0, "the config is valid: \(check)")
        let added = try await cli(["silence", "add", "--machine", "mch_b", "--for", "1h", "--reason", "rollout", "--config", config], directory)
        let id = try #require(Self.silenceID(in: added.stdout), "\(added)")

        let text = try await cli(["status", "--config", config], directory)
        // mch_a differs only in ignored attributes ([notify] cpu ∪ its own memory_mb); mch_b also in cpu, the
        // only difference: both announced as in_sync, so status exits 0.
        #expect(text.status == 0, "\(text)")
        #expect(text.stdout.contains("silence \(id): mch_b"), "\(text.stdout)")
        #expect(text.stdout.contains("maintenance window 1") && text.stdout.contains("maintenance window 2"), "\(text.stdout)")
        #expect(text.stdout.contains("IN FORCE"), "\(text.stdout)")
        #expect(text.stdout.contains("ignored: mch_a cpu, memory_mb"), "\(text.stdout)")

        let json = try await cli(["status", "--config", config, "--json"], directory)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        func row(_ id: String) -> [String: Any]? { rows.first { $0["machine_id"] as? String == id } }
        #expect(row("mch_a")?["ignored_attributes"] as? [String] == ["cpu", "memory_mb"])
        #expect(row("mch_b")?["ignored_attributes"] as? [String] == ["cpu"])
        #expect(row("mch_c")?["ignored_attributes"] as? [String] == [])
        #expect((row("mch_b")?["muted_by"] as? String)?.contains(id) == true, "\(String(describing: row("mch_b")))")
        #expect((row("mch_c")?["muted_by"] as? String)?.hasPrefix("maintenance window") == true)
        #expect(row("mch_a")?["muted_by"] is NSNull)
        #expect(row("mch_a")?.keys.contains("pending_state") == true, "the pending state's key is there (null until ENGINE fills it)")
    }

    @Test("status shows a pending (unconfirmed) state while [notify] confirm holds the announcement back")
    func statusShowsPending() async throws {
        let daemon = try await NotifiedDaemon(machines: ["mch_a", "mch_b"])
        do {
            // A webhook nothing reaches (nothing is sent while the state is pending) and a confirmation that
            // needs more reports than the test waits for.
            let secret = try daemon.directory.write("webhook.secret", "whsec_" + Data("silence-test-secret-0123456789".utf8).base64EncodedString())
            let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
            _ = try daemon.directory.write("config.toml", config + """

                [notify]
                confirm = 100

                [[webhook]]
                name = "nowhere"
                url = "http://127.0.0.1:9/hook"
                secret_file = "\(secret)"

                """)
            try await daemon.start()
            try await eventually(timeout: .seconds(30), "both machines observed in_sync") {
                let rows = try StatusReport.rows(AppDatabase.openReadOnly(path: daemon.statePath).machines())
                return rows.count == 2 && rows.allSatisfy { $0.state == "in_sync" }
            }
            try daemon.simulator.control.setState(.drifted, machineID: "mch_a")
            func status() async throws -> [[String: Any]] {
                let result = try await cli(["status", "--config", daemon.configPath, "--json"], daemon.directory)
                return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
            }
            var rows: [[String: Any]] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                rows = try await status()
                if rows.contains(where: { $0["machine_id"] as? String == "mch_a" && $0["pending_state"] as? String == "drifted" }) { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            let a = try #require(rows.first { $0["machine_id"] as? String == "mch_a" }, "\(rows)")
            #expect(a["pending_state"] as? String == "drifted", "\(a)")
            #expect(a["pending_since"] as? Int64 != nil)
            #expect(rows.first { $0["machine_id"] as? String == "mch_b" }?["pending_state"] as? String != "drifted")
            let text = try await cli(["status", "--config", daemon.configPath], daemon.directory)
            #expect(text.stdout.contains("pending: mch_a drifted since"), "\(text.stdout)")
            #expect(text.stdout.split(separator: "\n").contains { $0.hasPrefix("mch_a") && $0.contains("drifted (unconfirmed)") }, "\(text.stdout)")
        } catch {
            await daemon.shutdown()
            throw error
        }
        await daemon.shutdown()
    }

    // MARK: The running daemon

    @Test("a running daemon gets SIGUSR1 after add and remove, re-reads the silences and journals a silenced drift with drift_silenced=1")
    func wakesTheDaemon() async throws {
        let daemon = try await NotifiedDaemon(machines: ["mch_a", "mch_b"])
        do {
            try await daemon.start()
            let pid = try #require(daemon.process?.pid)
            let common = ["--state", daemon.statePath, "--config", daemon.configPath]
            let added = try await cli(["silence", "add", "--machine", "mch_a", "--for", "10m", "--reason", "deploy"] + common, daemon.directory)
            #expect(added.status == 0, "\(added)")
            let id = try #require(Self.silenceID(in: added.stdout))
            #expect(added.stdout.contains("akua-driftd (pid \(pid)) applies it now"), "\(added.stdout)")
            try await eventually(timeout: .seconds(20), "the daemon re-reads the silences") {
                daemon.stderr.contains("silences re-read (SIGUSR1): 1 active (\(id))")
            }
            // Both drift: the silenced machine's transition is journaled with drift_silenced=1, the other's not.
            try daemon.simulator.control.setState(.drifted, machineID: "mch_a")
            try daemon.simulator.control.setState(.drifted, machineID: "mch_b")
            func driftLine(_ machine: String) -> String? {
                daemon.stderr.split(separator: "\n").map(String.init).first {
                    $0.contains("drift_machine_id=\(machine)") && $0.contains("drift_state=drifted")
                }
            }
            try await eventually(timeout: .seconds(30), "both drifts are journaled") { driftLine("mch_a") != nil && driftLine("mch_b") != nil }
            #expect(driftLine("mch_a")?.contains("drift_silenced=1") == true, "\(driftLine("mch_a") ?? "")")
            #expect(driftLine("mch_a")?.contains(id) == true, "the reason names the silence: \(driftLine("mch_a") ?? "")")
            #expect(driftLine("mch_b")?.contains("drift_silenced") == false, "\(driftLine("mch_b") ?? "")")
            let removed = try await cli(["silence", "remove", id] + common, daemon.directory)
            #expect(removed.status == 0 && removed.stdout.contains("(pid \(pid))"), "\(removed)")
            try await eventually(timeout: .seconds(20), "the daemon re-reads the silences after remove") {
                daemon.stderr.contains("silences re-read (SIGUSR1): 0 active")
            }
            #expect(daemon.process?.isRunning == true, "SIGUSR1 does not stop it")
            await daemon.shutdown()
            // Stopped: its pid is withdrawn, and the CLI says the change waits for the next start.
            let later = try await cli(["silence", "add", "--all", "--for", "1m", "--reason", "after"] + common, daemon.directory)
            #expect(later.status == 0 && later.stdout.contains("not running"), "\(later)")
        } catch {
            await daemon.shutdown()
            throw error
        }
    }

    @Test("a stale pid in the state file (a crashed daemon) is not signalled: only a process with the state lock file open is")
    func stalePidIsNotSignalled() async throws {
        let directory = try TemporaryDirectory("akua-driftd-silence")
        let state = try stateFile(directory, ["mch_a"])
        // A process of ours without the lock file open stands in for whatever reused the crashed daemon's
        // pid. It records SIGUSR1 and exits on SIGUSR2, sent by the test after the CLI is done: a SIGUSR1 the
        // CLI sent is delivered first (pending standard signals go lowest number first), so none means none.
        let python = try #require(TestPreconditions.tool("python3"), "python3 is needed")
        let ready = directory.file("bystander-ready"), log = directory.file("bystander-signals")
        let bystander = try ChildProcess(
            python, ["-c", """
                import os, signal, sys, time
                def usr1(*_):
                    with open("\(log)", "a") as f: f.write("usr1\\n")
                def usr2(*_):
                    with open("\(log)", "a") as f: f.write("usr2\\n")
                    os._exit(0)
                signal.signal(signal.SIGUSR1, usr1)
                signal.signal(signal.SIGUSR2, usr2)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2})
                open("\(ready)", "w").close()
                while True: time.sleep(1)
                """], environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory.path, name: "bystander")
        try await eventually(timeout: .seconds(20), "the bystander is ready") { FileManager.default.fileExists(atPath: ready) }
        try AppDatabase.open(path: state).setSignalPID(bystander.pid)
        let added = try await cli(["silence", "add", "--all", "--for", "1h", "--reason", "r", "--state", state], directory)
        #expect(added.status == 0 && added.stdout.contains("not running"), "\(added)")
        bystander.signal(SIGUSR2)
        #expect(try await bystander.waitForExit(timeout: .seconds(20)) == 0)
        let received = try String(contentsOfFile: log, encoding: .utf8)
        #expect(received == "usr2\n", "the bystander got no SIGUSR1")
    }
}
