import DriftConfig
import DriftCore
import DriftDaemon
import DriftStore
import DriftSystemd
import DriftTestSupport
import Foundation
import Testing

/// The operator's commands on the real binary (README, "Operating it"): `status` finds the state without
/// the token and exits like a monitoring plugin; `reload` tells the truth about a rejected config.
@Suite("akua-driftd status and reload: the operator's commands", .serialized)
struct OperatorCommandTests {
    // MARK: Finding the state

    @Test("status finds the state: --state, else [state] path, else $STATE_DIRECTORY, else the service's directory, else ./state.sqlite")
    func discoveryOrder() throws {
        let directory = try TemporaryDirectory("akua-driftd-locator")
        let service = directory.file("lib-akua-driftd")
        var locator = StatusLocator(environment: [:])
        locator.serviceStateDirectory = service
        #expect(locator.statePath(explicit: nil, configured: nil) == "./state.sqlite", "nothing installed, nothing configured")
        #expect(locator.statePath(explicit: nil, configured: StateSettings.fallbackPath) == "./state.sqlite")
        // The unit's StateDirectory= with DynamicUser=yes: a symlink into /var/lib/private, which a
        // non-root reader cannot follow. Its presence alone points status at the service's file.
        #expect(symlink(directory.file("private/akua-driftd"), service) == 0)
        #expect(locator.statePath(explicit: nil, configured: nil) == service + "/state.sqlite")
        locator.environment = ["STATE_DIRECTORY": "/var/lib/x:/var/lib/y"]
        #expect(locator.statePath(explicit: nil, configured: nil) == "/var/lib/x/state.sqlite")
        #expect(locator.statePath(explicit: nil, configured: "/srv/s.sqlite") == "/srv/s.sqlite")
        #expect(locator.statePath(explicit: "/tmp/e.sqlite", configured: "/srv/s.sqlite") == "/tmp/e.sqlite")
    }

    @Test("without a readable state file, status reads the daemon's snapshot; with neither it says where it looked")
    func snapshotFallback() throws {
        let directory = try TemporaryDirectory("akua-driftd-locator")
        let runtime = directory.file("run")
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        var locator = StatusLocator(environment: ["RUNTIME_DIRECTORY": runtime])
        locator.serviceStateDirectory = directory.file("none")
        let config = DaemonConfig(state: StateSettings(path: directory.file("missing.sqlite")))
        guard case .failure(let failure) = locator.read(explicit: nil, config: config, nowMs: 0) else {
            Issue.record("read without state nor snapshot succeeded")
            return
        }
        #expect(failure.description.contains(directory.file("missing.sqlite")) && failure.description.contains(runtime + "/status.json"),
                "\(failure)")
        #expect(failure.description.contains("root"), "it says how: \(failure)")

        let snapshot = StatusSnapshot(
            machines: try JSONDecoder().decode([StatusReport.Row].self, from: Data("""
                [{"machine_id": "mch_a", "state": "drifted", "since": 1, "consecutive_failures": 0,
                  "drifted_attributes": ["cpu"], "stale": false, "failing": false}]
                """.utf8)),
            webhooks: [], last_reload: nil, clock_skew_ms: nil, taken_at: 5)
        try RuntimeFiles(directory: runtime).write(StatusSnapshot.fileName, try snapshot.encoded())
        guard case .success(let (read, source)) = locator.read(explicit: nil, config: config, nowMs: 0) else {
            Issue.record("the snapshot was not read")
            return
        }
        #expect(read == snapshot)
        #expect(source == .snapshot(runtime + "/status.json"))
        let mode = try FileManager.default.attributesOfItem(atPath: runtime + "/status.json")[.posixPermissions] as? Int
        #expect(mode == 0o640, "group-readable, nothing for others")
        // An explicit --state is never silently replaced by the snapshot.
        guard case .failure = locator.read(explicit: directory.file("missing.sqlite"), config: config, nowMs: 0) else {
            Issue.record("--state fell back to the snapshot")
            return
        }
    }

    @Test("group adm reads the runtime files through the ACLs grant-status-access sets; other users cannot",
          .enabled(if: TestPreconditions.isRoot && TestPreconditions.tool("setpriv") != nil && getgrnam("adm") != nil,
                   "needs root, setpriv (util-linux) and group adm (Debian)"))
    func admReadsTheSnapshot() async throws {
        let directory = try TemporaryDirectory("akua-driftd-acl")
        chmod(directory.path, 0o755)
        let runtime = directory.file("run")
        #expect(mkdir(runtime, 0o750) == 0)
        let files = RuntimeFiles(directory: runtime)
        try files.write("before.json", Data("{}".utf8))  // written before the grant, like the first snapshot
        try StatusAccess.grant(directory: runtime, groupName: "adm")
        try files.write(StatusSnapshot.fileName, Data("{}".utf8))  // written after: inherits the default ACL
        let adm = Int(getgrnam("adm")!.pointee.gr_gid)
        // The kernel decides: cat as uid 65534 with group adm, then with no group of note.
        func cat(gid: Int, _ name: String) async throws -> Int32 {
            try await ChildProcess.run(
                try #require(TestPreconditions.tool("setpriv")),
                ["--reuid=65534", "--regid=\(gid)", "--clear-groups", "cat", files.path(name)],
                environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory.path, name: "cat-\(gid)").status
        }
        #expect(try await cat(gid: adm, StatusSnapshot.fileName) == 0, "a member of adm reads the snapshot")
        #expect(try await cat(gid: adm, "before.json") == 0, "and a file written before the grant")
        #expect(try await cat(gid: 65534, StatusSnapshot.fileName) != 0, "anyone else cannot")
    }

    // MARK: Exit codes

    /// A state file with machines in the given conditions; `failing` ones have three failed checks.
    func stateFile(_ directory: TemporaryDirectory, _ name: String, _ machines: [(String, ReportState?, failing: Bool)]) throws -> String {
        let path = directory.file(name)
        let database = try AppDatabase.open(path: path)
        try database.configureMachines(machines.map { ($0.0, nil) })
        let now = SystemClock().nowMs()
        for (id, state, failing) in machines {
            if let state {
                let report = DriftReport(
                    id: "rpt_\(id)", machineID: id, state: state, etag: "\"e\"", createdAt: now / 1000, startedAt: now / 1000,
                    expiresAt: now / 1000 + 900, delta: state == .drifted ? ["cpu": .number(4)] : nil, providerSnapshot: nil)
                let transition = Transition(
                    machineID: id, machineName: nil, previous: .unknown, state: state.driftState, cause: .report, report: report, at: now,
                    firstObservation: true)
                _ = try database.record([CheckRecord(machineID: id, checkedAt: now, report: report, transition: transition)])
            }
            if failing {
                for n in 1...3 { _ = try database.record([CheckRecord(machineID: id, checkedAt: now + Int64(n), error: "HTTP 503")]) }
            }
        }
        return path
    }

    func status(_ arguments: [String], _ directory: TemporaryDirectory) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await ChildProcess.run(
            try PackagePaths.binary("akua-driftd"), ["status", "--config", directory.file("no-config.toml")] + arguments,
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory.path, name: "status")
    }

    @Test("status exits like a monitoring plugin: 0 all in_sync, 1 any drifted, 2 any unknown or failing, 3 unreadable; no token needed")
    func exitCodes() async throws {
        let directory = try TemporaryDirectory("akua-driftd-status")
        let cases: [(String, [(String, ReportState?, failing: Bool)], Int32)] = [
            ("in-sync.sqlite", [("mch_a", .inSync, false), ("mch_b", .inSync, false)], 0),
            ("drifted.sqlite", [("mch_a", .inSync, false), ("mch_b", .drifted, false)], 1),
            ("unknown.sqlite", [("mch_a", .drifted, false), ("mch_b", nil, false)], 2),
            ("failing.sqlite", [("mch_a", .inSync, true), ("mch_b", .drifted, false)], 2),
        ]
        for (name, machines, expected) in cases {
            let path = try stateFile(directory, name, machines)
            let result = try await status(["--state", path], directory)
            #expect(result.status == expected, "\(name): \(result.stdout) \(result.stderr)")
            let json = try await status(["--state", path, "--json"], directory)
            #expect(json.status == expected, "\(name) --json")
            let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(rows?.count == machines.count, "--json is still one array of machines: \(String(json.stdout.prefix(300)))")
        }
        let failing = try await status(["--state", directory.file("failing.sqlite")], directory)
        #expect(failing.stdout.contains("(failing 3)"), "failing checks are shown per machine: \(failing.stdout)")
        #expect(failing.stdout.contains("last reload: "), "\(failing.stdout)")
        let missing = try await status(["--state", directory.file("nope.sqlite")], directory)
        #expect(missing.status == 3 && missing.stderr.contains("cannot read the state"), "\(missing)")
        _ = try directory.write("garbage.sqlite", String(repeating: "not a database\n", count: 20))
        let garbage = try await status(["--state", directory.file("garbage.sqlite")], directory)
        #expect(garbage.status == 3, "\(garbage)")
    }

    // MARK: Reload

    @Test("reload: exit 0 once applied; exit 1 with the FILE:LINE: key: errors when rejected, the old config keeps running; [log] level applies")
    func reloadTellsTheTruth() async throws {
        let daemon = try await NotifiedDaemon(machines: ["mch_a", "mch_b"])
        let runtime = daemon.directory.file("run")
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        do {
            try await daemon.start(environment: ["RUNTIME_DIRECTORY": runtime])
            let pid = try #require(daemon.process?.pid)
            func reload() async throws -> (status: Int32, stdout: String, stderr: String) {
                try await ChildProcess.run(
                    try PackagePaths.binary("akua-driftd"), ["reload", "--pid", "\(pid)", "--timeout", "30s"],
                    environment: ["PATH": "/usr/bin:/bin", "RUNTIME_DIRECTORY": runtime], logDirectory: daemon.directory.path, name: "reload")
            }
            try daemon.writeConfig(machines: ["mch_a", "mch_b", "mch_c"])
            let good = try await reload()
            #expect(good.status == 0, "\(good)")
            let applied = try #require(ReloadOutcome.read(from: RuntimeFiles(directory: runtime)))
            #expect(applied.generation == 1 && applied.accepted && applied.errors.isEmpty)
            // The snapshot for group adm is refreshed by the reload.
            let snapshot = try StatusSnapshot.decode(try RuntimeFiles(directory: runtime).read(StatusSnapshot.fileName))
            #expect(snapshot.machines.map(\.machine_id).sorted() == ["mch_a", "mch_b", "mch_c"])
            #expect(snapshot.last_reload?.accepted == true && snapshot.last_reload?.generation == 1)

            let valid = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
            _ = try daemon.directory.write("config.toml", valid + "\n[log]\nlevel = \"loud\"\n")
            let bad = try await reload()
            #expect(bad.status == 1, "\(bad)")
            let lines = valid.split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(bad.stderr.contains("\(daemon.configPath):\(lines + 2): log.level: unknown level"), "\(bad.stderr)")
            #expect(daemon.process?.isRunning == true)
            let database = try AppDatabase.openReadOnly(path: daemon.statePath)
            #expect(try database.lastReload()?.accepted == false && database.lastReload()?.generation == 2)
            #expect(try database.machines().count == 3, "the previous (3-machine) config keeps running")

            // [log] level = "debug" is applied by the next good reload: debug lines appear.
            _ = try daemon.directory.write("config.toml", valid + "\n[log]\nlevel = \"debug\"\n")
            let debug = try await reload()
            #expect(debug.status == 0, "\(debug)")
            try await eventually(timeout: .seconds(20), "a debug line after [log] level = \"debug\"") {
                daemon.stderr.contains(" debug ")
            }
        } catch {
            await daemon.shutdown()
            throw error
        }
        await daemon.shutdown()
    }
}
