import AkuaSimulator
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import DriftWebhooks
import Foundation
import Logging
import Synchronization
import Testing

/// Checks, at the very moment each transition is announced (the journal record is written), that it is
/// already in the state file: the daemon never announces what it could not record.
final class AnnouncementAudit: Sendable {
    private let violations = Mutex<[String]>([])
    private let checked = Mutex(0)

    init(reader: AppDatabase, logs: LogCapture) {
        logs.observe { [self] record in
            guard let id = record.metadata["drift_event_id"], record.metadata["drift_state"] != nil else { return }
            let recorded = (try? reader.transitions().contains { $0.transition.eventID == id }) ?? false
            checked.withLock { $0 += 1 }
            if !recorded { violations.withLock { $0.append(id) } }
        }
    }

    var announcementsChecked: Int { checked.withLock { $0 } }
    var unrecordedAnnouncements: [String] { violations.withLock { $0 } }
}

/// Disk and process faults: a full or read-only state directory, corrupted and foreign state files,
/// two daemons on one state file, and wall-clock jumps.
@Suite("Disk and process faults")
struct DiskAndProcessTests {
    @Test("state directory full: clear error, keeps checking, announces nothing unrecorded, catches up when space returns",
          .enabled(if: TestPreconditions.tmpfs, TestPreconditions.tmpfsReason))
    func stateDirectoryFull() async throws {
        let seed = ReliabilitySeed.seed("disk full", default: 0xD15C)
        let dir = try TemporaryDirectory("akua-reliability-full")
        let mountPoint = dir.file("state")
        try Mounts.tmpfs(at: mountPoint, sizeKB: 2_048)
        defer { Mounts.unmount(mountPoint) }
        let receiver = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        let endpoint = try WebhookChecks.endpoint(receiver.url, name: "receiver")
        var options = EngineHarness.Options(
            simulated: [
                SimulatedMachine(id: "mch_d1", scenario: .fixed(.inSync)),
                SimulatedMachine(id: "mch_d2", scenario: .fixed(.drifted)),
                SimulatedMachine(id: "mch_d3", scenario: .fixed(.inSync)),
            ],
            seed: seed)
        options.statePath = mountPoint + "/state.sqlite"
        options.defaultIntervalMs = 700
        options.ttlSeconds = 4
        options.subscriptions = [EngineSettings.Subscription(webhookID: endpoint.id, events: Set(DriftState.allCases))]
        try await EngineHarness.run(options, autoStart: false) { h in
            let dispatcher = RunningDispatcher(
                endpoints: [endpoint], database: h.database, policy: WebhookFaultTests.policy, logger: h.logs.logger())
            h.relay.onOutbox = { dispatcher.dispatcher.wake() }
            let audit = AnnouncementAudit(reader: try AppDatabase.openReadOnly(path: h.statePath), logs: h.logs)
            try h.start()
            try await h.waitUntilAllKnown()
            // mch_d3's API fails from now on: its report expires while the disk is full.
            try h.control.setFaults(SimulatorFaults(errorRate: 1, errorStatuses: [503], machineIDs: ["mch_d3"]))
            let filler = Mounts.fill(mountPoint)
            let fullAt = wallMs()
            try h.control.setState(.drifted, machineID: "mch_d1")
            try h.control.setState(.inSync, machineID: "mch_d2")
            try await eventually(timeout: .seconds(15), "the daemon says it cannot write the state file") {
                h.logs.records.contains { $0.level == .error && $0.message.contains("cannot write the state file") }
            }
            let error = try #require(h.logs.records.first { $0.level == .error && $0.message.contains("cannot write the state file") })
            print("[reliability] disk full: \(error.message)")
            #expect(error.message.contains(h.statePath))
            #expect(error.message.contains("full"), "the error should say the disk is full: \(error.message)")
            // Long enough for mch_d3's report to expire while nothing can be written.
            try await Task.sleep(for: .seconds(5))
            try await eventually(timeout: .seconds(15), "the daemon keeps checking while the disk is full") {
                h.recorder.calls.filter { $0.startMs > fullAt }.count >= 6
            }
            // The state file still reads (status works) and shows nothing that was not recorded.
            let frozen = try StatusReport.rows(AppDatabase.openReadOnly(path: h.statePath).machines())
            #expect(frozen.first { $0.machine_id == "mch_d1" }?.state == "in_sync")

            try FileManager.default.removeItem(atPath: filler)
            do {
                try await eventually(timeout: .seconds(15), "the daemon catches up once there is space again") {
                    let rows = try h.rows()
                    return rows["mch_d1"]?.state == "drifted" && rows["mch_d2"]?.state == "in_sync" && rows["mch_d3"]?.state == "unknown"
                }
            } catch {
                Issue.record("states: \(try h.rows().values.map { "\($0.machine_id)=\($0.state) expires \($0.expires_at ?? 0) error \($0.last_error ?? "-")" })")
                throw error
            }
            let wanted = try h.transitions().filter { $0.isWanted(by: Set(DriftState.allCases)) }
            try await eventually(timeout: .seconds(15), "the receiver gets the transitions") {
                Set(wanted.map(\.eventID)).isSubset(of: Set(receiver.deliveries.map(\.id)))
            }
            await dispatcher.stop()
            #expect(audit.unrecordedAnnouncements.isEmpty, "announced before recorded: \(audit.unrecordedAnnouncements)")
            #expect(audit.announcementsChecked >= 6)
            let announced = Dictionary(grouping: h.logs.announcements, by: { $0.metadata["drift_event_id"]! })
            for transition in try h.transitions() {
                #expect(announced[transition.eventID]?.count == 1, "\(transition.eventID) announced \(announced[transition.eventID]?.count ?? 0) times")
            }
            let expiry = try #require(try h.transitions("mch_d3").last)
            #expect(expiry.state == .unknown && expiry.cause == .expired)
            #expect(expiry.at >= (expiry.report?.expiresAt ?? .max) * 1000)
            #expect(h.control.stats().reportsByKey.values.allSatisfy { $0 == 1 })
            #expect(try h.database.integrityCheck() == "ok")
        }
        await receiver.shutdown()
    }

    @Test("state file system turns read-only under the daemon: clear error, keeps checking, nothing unrecorded is announced; a restart catches up",
          .enabled(if: TestPreconditions.loopDevice, TestPreconditions.loopDeviceReason))
    func stateDirectoryReadOnly() async throws {
        let seed = ReliabilitySeed.seed("disk read-only", default: 0xD15D)
        let dir = try TemporaryDirectory("akua-reliability-readonly")
        let mountPoint = dir.file("state")
        // A loop device can be had (the trait checked): a setup that fails now is a failure, never a skip.
        let device = try Mounts.ext4(image: dir.file("state.img"), at: mountPoint, sizeMB: 16)
        defer { Mounts.unmount(mountPoint) }
        #expect(FileManager.default.fileExists(atPath: "/sys/fs/ext4/\(device)/trigger_fs_error"), "no trigger_fs_error for \(device)")
        var options = EngineHarness.Options(
            simulated: [SimulatedMachine(id: "mch_r1", scenario: .fixed(.inSync)), SimulatedMachine(id: "mch_r2", scenario: .fixed(.drifted))],
            seed: seed)
        options.statePath = mountPoint + "/state.sqlite"
        options.defaultIntervalMs = 700
        options.ttlSeconds = 60
        try await EngineHarness.run(options) { h in
            let audit = AnnouncementAudit(reader: try AppDatabase.openReadOnly(path: h.statePath), logs: h.logs)
            try await h.waitUntilAllKnown()
            try Mounts.failExt4(device: device)
            let failedAt = wallMs()
            try h.control.setState(.drifted, machineID: "mch_r1")
            try h.control.setState(.inSync, machineID: "mch_r2")
            try await eventually(timeout: .seconds(15), "the daemon says it cannot write the state file") {
                h.logs.records.contains { $0.level == .error && $0.message.contains("cannot write the state file") }
            }
            let error = try #require(h.logs.records.first { $0.level == .error && $0.message.contains("cannot write the state file") })
            print("[reliability] read-only file system: \(error.message)")
            #expect(error.message.contains(h.statePath))
            try await eventually(timeout: .seconds(15), "the daemon keeps checking") {
                h.recorder.calls.filter { $0.startMs > failedAt }.count >= 4
            }
            #expect(audit.unrecordedAnnouncements.isEmpty, "announced before recorded: \(audit.unrecordedAnnouncements)")
            #expect(!h.logs.announcements.contains { $0.atMs > failedAt }, "a transition was announced although nothing can be recorded")

            // The operator moves the state file to a working disk and restarts: the new run catches up.
            await h.engine.stop(graceMs: 1_000)
            let recovered = dir.file("recovered")
            try FileManager.default.createDirectory(atPath: recovered, withIntermediateDirectories: true)
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: h.statePath + suffix) {
                try FileManager.default.copyItem(atPath: h.statePath + suffix, toPath: recovered + "/state.sqlite" + suffix)
            }
            let database = try AppDatabase.open(path: recovered + "/state.sqlite")
            let engine = try h.makeEngine(database: database)
            try engine.start()
            try await eventually(timeout: .seconds(15), "the restarted daemon records the changes") {
                let rows = StatusReport.rows(try database.machines())
                return rows.first { $0.machine_id == "mch_r1" }?.state == "drifted" && rows.first { $0.machine_id == "mch_r2" }?.state == "in_sync"
            }
            await engine.stop(graceMs: 1_000)
            #expect(try database.integrityCheck() == "ok")
            #expect(h.control.stats().reportsByKey.values.allSatisfy { $0 == 1 })
        }
    }

    // MARK: State files the daemon must refuse

    static func config(_ dir: TemporaryDirectory, statePath: String, baseURL: String = "http://127.0.0.1:9/v1", machines: [String] = ["mch_a"]) throws -> String {
        let token = try dir.write("token", "sk_akua_statefile_test")
        return try dir.write("config.toml", """
            [api]
            base_url = "\(baseURL)"
            token_file = "\(token)"
            timeout = "1s"
            [schedule]
            interval = "1s"
            catch_up_window = "100ms"
            [state]
            path = "\(statePath)"
            """ + machines.map { "\n[[machine]]\nid = \"\($0)\"" }.joined())
    }

    /// The file's bytes (compared whole: "never overwritten" means not one byte changed).
    static func digest(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Bytes of WAL frames beside `path` (a WAL holding only its 32-byte header changes nothing).
    static func pendingWALBytes(_ path: String) -> Int {
        let size = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        return max(0, size - 32)
    }

    enum BadStateFile: String, CaseIterable, CustomTestStringConvertible {
        case randomBytes, truncatedStateFile, foreignSQLite, foreignApplicationID, newerSchema
        var testDescription: String { rawValue }

        /// What the refusal must say.
        var message: String {
            switch self {
            case .randomBytes: "state file is corrupted or not a SQLite database"
            case .truncatedStateFile: "refusing"
            case .foreignSQLite, .foreignApplicationID: "not an akua-driftd state file"
            case .newerSchema: "written by a newer akua-driftd"
            }
        }
    }

    /// Runs the sqlite3 shell on `path`; a failure is a test failure (never silently ignored).
    static func sqlite3(_ path: String, _ sql: String) throws {
        let result = Mounts.sh("/usr/bin/sqlite3", [path, sql])
        guard result.status == 0 else { throw HarnessError("sqlite3 \(path) \"\(sql)\" exited \(result.status): \(result.output)") }
    }

    @Test("a corrupted or foreign state file is refused with a clear error and never modified",
          .enabled(if: TestPreconditions.sqlite3, TestPreconditions.sqlite3Reason), arguments: BadStateFile.allCases)
    func badStateFile(_ kind: BadStateFile) async throws {
        let seed = ReliabilitySeed.seed("bad state file \(kind)", default: 0xBAD0)
        var random = SeededRandom(seed: seed)
        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-reliability-statefile")
        let path = dir.file("state.sqlite")
        switch kind {
        case .randomBytes:
            _ = FileManager.default.createFile(atPath: path, contents: Data((0..<65_536).map { _ in UInt8.random(in: 0...255, using: &random) }))
        case .truncatedStateFile:
            // A real state file with history, cut in the middle of its pages.
            do {
                let database = try AppDatabase.open(path: path)
                try database.configureMachines((0..<400).map { ("mch_\($0)", "machine number \($0)") })
            }
            try Self.sqlite3(path, "PRAGMA wal_checkpoint(TRUNCATE);")
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2 + 100).write(to: URL(fileURLWithPath: path))
        case .foreignSQLite:
            try Self.sqlite3(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL); INSERT INTO invoices (amount) VALUES (12.5), (99.0);")
        case .foreignApplicationID:
            try Self.sqlite3(path, "PRAGMA application_id = 1179603277; CREATE TABLE t (x);")
        case .newerSchema:
            _ = try AppDatabase.open(path: path)
            try Self.sqlite3(path, "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future'); PRAGMA wal_checkpoint(TRUNCATE);")
        }
        let before = try Self.digest(path)
        let config = try Self.config(dir, statePath: path)
        let run = try await ChildProcess.run(daemon, ["run", "--config", config, "--log-target", "stderr"], logDirectory: dir.path, name: "run", timeout: .seconds(30))
        #expect(run.status == 1, "the daemon should refuse the state file with exit 1, got \(run.status): \(run.stderr)")
        #expect(run.stderr.contains(path), "the error should name the state file: \(run.stderr)")
        #expect(run.stderr.contains(kind.message), "the error should say \"\(kind.message)\": \(run.stderr)")
        #expect(try Self.digest(path) == before, "the refused state file was modified")
        #expect(Self.pendingWALBytes(path) == 0, "the refused state file has changes waiting in its WAL")
        let status = try await ChildProcess.run(daemon, ["status", "--state", path, "--json"], logDirectory: dir.path, name: "status", timeout: .seconds(30))
        if kind == .newerSchema {
            // Reading a newer file is harmless (migrations only ever add); it must still not be changed.
            #expect(status.status == 0 || status.stderr.contains(path))
        } else {
            // 3: the state cannot be read (README: status exits like a monitoring plugin, UNKNOWN).
            #expect(status.status == 3, "status on a bad state file: \(status.status) \(status.stderr)")
            #expect(status.stderr.contains(path))
        }
        #expect(try Self.digest(path) == before, "status modified the state file")
        #expect(Self.pendingWALBytes(path) == 0, "status left changes in the WAL")
        print("[reliability] \(kind): \(run.stderr.split(separator: "\n").last ?? "")")
    }

    @Test("a second daemon on the same state file refuses to start; the first keeps running")
    func twoDaemonsOneStateFile() async throws {
        _ = ReliabilitySeed.seed("two daemons", default: 0x2D)
        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-reliability-two")
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: "sk_akua_statefile_test", machines: [SimulatedMachine(id: "mch_a")], ttlSeconds: 60))
        let statePath = dir.file("state.sqlite")
        let config = try Self.config(dir, statePath: statePath, baseURL: simulator.baseURL)
        let first = try ChildProcess(daemon, ["run", "--config", config, "--log-target", "stderr"], logDirectory: dir.path, name: "first")
        do {
            try await eventually(timeout: .seconds(20), "the first daemon has checked the machine") {
                guard FileManager.default.fileExists(atPath: statePath) else { return false }
                // (A file being created this very instant may not be recognisable yet: poll again.)
                return (try? AppDatabase.openReadOnly(path: statePath).machines().first?.state) == .inSync
            }
            let second = try await ChildProcess.run(daemon, ["run", "--config", config, "--log-target", "stderr"], logDirectory: dir.path, name: "second", timeout: .seconds(20))
            #expect(second.status == 1, "the second daemon should refuse to start: \(second.status) \(second.stderr)")
            #expect(second.stderr.contains("another akua-driftd is already running on this state file"), "\(second.stderr)")
            #expect(second.stderr.contains(statePath))
            #expect(first.isRunning, "the first daemon died: \(first.stderr)")
            let reports = simulator.control.stats().createsTotal
            try await eventually(timeout: .seconds(10), "the first daemon keeps checking") { simulator.control.stats().createsTotal > reports }
        } catch {
            first.signal(SIGKILL)
            await simulator.shutdown()
            throw error
        }
        first.signal(SIGTERM)
        #expect(try await first.waitForExit(timeout: .seconds(20)) == 0, "\(first.stderr)")
        await simulator.shutdown()
    }

    // MARK: Wall-clock jumps

    @Test("wall clock forward and back by an hour: no burst of checks, no key reused for another occurrence")
    func wallClockJumps() async throws {
        let seed = ReliabilitySeed.seed("wall-clock jumps", default: 0xC10C)
        let interval: Int64 = 4_000
        let window: Int64 = 2_000
        var options = EngineHarness.Options(
            simulated: (0..<30).map { SimulatedMachine(id: "mch_jump_\($0)", scenario: .fixed($0 % 3 == 0 ? .drifted : .inSync)) },
            seed: seed)
        options.defaultIntervalMs = interval
        options.ttlSeconds = 7_200
        options.scheduler = SchedulerSettings(maxInFlight: 8, refreshBeforeMs: 60_000, catchUpWindowMs: window)
        try await EngineHarness.run(options) { h in
            try await h.waitUntilAllKnown()
            try await Task.sleep(for: .milliseconds(interval + 500))
            let transitionsBefore = try h.transitions().count

            // Forward by one hour: no machine may fire with the rest, and none waits past its next slot.
            let jumpedTo = h.clock.nowMs() + 3_600_000
            let jumpWall = wallMs()
            h.clock.jump(byMs: 3_600_000)
            try await Task.sleep(for: .milliseconds(window + interval + 1_000))
            // A check the scheduler started just before the jump may reach the wire just after it, for its
            // pre-jump slot; every other check after the jump is for a post-jump slot.
            var after: [CallRecorder.Call] = []
            for call in h.recorder.calls where call.engineStartMs >= jumpedTo {
                let occurrence = try #require(APIFaultTests.occurrence(ofKey: call.key))
                let phase = SlotMath.phase(machineID: call.machineID, intervalMs: interval)
                #expect(occurrence.kind == .scheduled)
                let slot = SlotMath.slotStart(containing: call.engineStartMs, intervalMs: interval, phaseMs: phase)
                if occurrence.at < jumpedTo - interval {
                    let before = SlotMath.slotStart(containing: call.engineStartMs - 3_600_000, intervalMs: interval, phaseMs: phase)
                    // Its task may start late on a loaded machine (hundreds of ms); a stale slot chosen after the
                    // jump would come seconds later, with the catch-up spread.
                    #expect(occurrence.at == before && call.startMs - jumpWall < 1_000,
                            "\(call.machineID) checked \(call.startMs - jumpWall) ms after the jump for an old occurrence \(occurrence)")
                } else {
                    // The occurrence is fixed when the scheduler fires; the call itself may land a few ms into
                    // the next slot.
                    let firedInPreviousSlot = occurrence.at == slot - interval && call.engineStartMs - slot < 250
                    #expect(occurrence.at == slot || firedInPreviousSlot,
                            "\(call.machineID) checked at \(call.engineStartMs) for occurrence \(occurrence)")
                    after.append(call)
                }
            }
            var first: [String: Int64] = [:]
            for call in after where first[call.machineID] == nil { first[call.machineID] = call.engineStartMs - jumpedTo }
            #expect(first.count == options.simulated.count, "only \(first.count) machines checked after the jump")
            let delays = first.values.sorted()
            let burst = delays.filter { $0 < 250 }.count
            #expect(burst <= 8, "\(burst) of \(first.count) machines checked within 250 ms of the jump: a burst")
            // The engine notices the jump against elapsed time, so each machine keeps its slot rhythm.
            #expect((delays.last ?? 0) <= interval + 1_000, "a machine waited \(delays.last ?? 0) ms after the jump")
            print("[reliability] forward jump: first checks after \(delays.prefix(5))…\(delays.suffix(3)) ms; \(burst) within 250 ms")

            // Back by one hour: the slots of the hour ahead are done, yet checking goes on at the interval's
            // rhythm of elapsed time, as refreshes keyed on each machine's latest report: no pause of an hour,
            // no burst, and (below) no key reused.
            let backAt = wallMs()
            h.clock.jump(byMs: -3_600_000)
            try await Task.sleep(for: .milliseconds(2 * interval + 1_000))
            // After the jump the engine's clock is the real one again (offset 0); before it, an hour ahead.
            let afterBack = h.recorder.calls.filter { $0.startMs > backAt && abs($0.engineStartMs - $0.startMs) < 600_000 }
            var firstBack: [String: Int64] = [:]
            var perMachine: [String: Int] = [:]
            for call in afterBack {
                let occurrence = try #require(APIFaultTests.occurrence(ofKey: call.key))
                #expect(occurrence.kind == .refresh, "\(call.machineID) checked after the clock went back for \(occurrence), not a refresh")
                if firstBack[call.machineID] == nil { firstBack[call.machineID] = call.startMs - backAt }
                perMachine[call.machineID, default: 0] += 1
            }
            #expect(firstBack.count == options.simulated.count,
                    "only \(firstBack.count) of \(options.simulated.count) machines checked within \(2 * interval + 1_000) ms after the clock went back")
            let backDelays = firstBack.values.sorted()
            let backBurst = backDelays.filter { $0 < 250 }.count
            #expect(backBurst <= 8, "\(backBurst) machines checked within 250 ms of the backward jump: a burst")
            #expect((backDelays.last ?? 0) <= interval + 1_000, "a machine waited \(backDelays.last ?? 0) ms after the backward jump")
            // Two intervals and a second: two checks per machine by rhythm, three if one landed at each edge.
            let busiest = perMachine.max { $0.value < $1.value }
            #expect((busiest?.value ?? 0) <= 3, "\(busiest?.key ?? "") was checked \(busiest?.value ?? 0) times in \(2 * interval + 1_000) ms")
            print("[reliability] backward jump: first checks after \(backDelays.prefix(5))…\(backDelays.suffix(3)) ms; \(backBurst) within 250 ms; at most \(busiest?.value ?? 0) checks per machine")

            // Over the whole run: one request per key (no faults, so no retries), one key per occurrence.
            let stats = h.control.stats()
            #expect(stats.requestsByKey.values.allSatisfy { $0 == 1 }, "a key was used twice")
            #expect(stats.reportsByKey.values.allSatisfy { $0 == 1 })
            let keys = h.recorder.calls.map { "\($0.machineID)|\($0.key)" }
            #expect(Set(keys).count == keys.count)
            #expect(try h.transitions().count == transitionsBefore, "a clock jump changed a machine's state")
        }
    }
}
