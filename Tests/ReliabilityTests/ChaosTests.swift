import AkuaAPI
import AkuaSimulator
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The real `akua-driftd run` process against the simulator (states flipping at seeded instants, 1 s
/// interval, 5 s TTL) and a webhook receiver, logging to a private systemd-journald, SIGKILLed at seeded
/// random instants dozens of times and restarted each time.
@Suite("Chaos: kill -9 at random instants")
struct ChaosTests {
    static let token = "sk_akua_chaos_" + String(UInt64.random(in: 1...UInt64.max), radix: 36)
    static let machines = ["mch_chaos_a", "mch_chaos_b", "mch_chaos_c", "mch_chaos_d"]
    static let intervalMs: Int64 = 1_000
    static let kills = 55

    /// One run of the daemon: its PID, when the test saw it start, when it was killed (nil: the last run).
    struct Run {
        var pid: Int32
        var seenAtMs: Int64
        var killedAtMs: Int64?
    }

    /// One simulator state that held from `fromMs` to `toMs`.
    struct Segment {
        var machineID: String
        var state: DriftState
        var fromMs: Int64
        var toMs: Int64
    }

    static func driftState(_ state: ReportStateName) -> DriftState { state == .drifted ? .drifted : .inSync }

    @Test("kill -9 at 55 random instants: no lost or duplicated change, no duplicate report, a sound state file",
          .enabled(if: TestPreconditions.journalSandbox, TestPreconditions.journalSandboxReason))
    func killNineRepeatedly() async throws {
        let seed = ReliabilitySeed.seed("chaos", default: 0xC4A05)
        var random = SeededRandom(seed: seed)
        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-reliability-chaos")
        let initial: [String: ReportStateName] = Dictionary(uniqueKeysWithValues: Self.machines.enumerated().map {
            ($0.element, $0.offset % 2 == 0 ? ReportStateName.inSync : .drifted)
        })
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: Self.token, machines: Self.machines.map { SimulatedMachine(id: $0, name: "name-\($0)", scenario: .fixed(initial[$0]!)) },
            ttlSeconds: 5, seed: seed))
        let startedAt = wallMs()
        let receiver = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        let tokenFile = try dir.write("token", Self.token)
        let secretFile = try dir.write("webhook.secret", WebhookChecks.secret)
        let statePath = dir.file("state.sqlite")
        let config = try dir.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            timeout = "2s"
            max_in_flight = 4
            [schedule]
            interval = "1s"
            refresh_before_expiry = "2s"
            catch_up_window = "100ms"
            [state]
            path = "\(statePath)"
            [[webhook]]
            url = "\(receiver.url)"
            secret_file = "\(secretFile)"
            timeout = "2s"
            """ + Self.machines.map { "\n[[machine]]\nid = \"\($0)\"\nname = \"name-\($0)\"" }.joined())
        let pidFile = dir.file("daemon.pid")
        let stopFile = dir.file("stop")
        let script = try dir.write("chaos.sh", """
            # Restarts the daemon whenever it dies, until the stop file exists.
            n=0
            while [ ! -e "$CHAOS_STOP" ]; do
                n=$((n + 1))
                "$CHAOS_DAEMON" run --config "$CHAOS_CONFIG" --log-target journal 2>>"$CHAOS_STDERR" &
                pid=$!
                echo "$n $pid" >"$CHAOS_PIDFILE.tmp" && mv "$CHAOS_PIDFILE.tmp" "$CHAOS_PIDFILE"
                wait "$pid"
                echo "run $n pid $pid exit $?" >>"$CHAOS_RUNLOG"
            done
            """)
        var environment = ProcessInfo.processInfo.environment
        environment["CHAOS_DAEMON"] = daemon
        environment["CHAOS_CONFIG"] = config
        environment["CHAOS_STOP"] = stopFile
        environment["CHAOS_PIDFILE"] = pidFile
        environment["CHAOS_STDERR"] = dir.file("daemon.stderr")
        environment["CHAOS_RUNLOG"] = dir.file("runs.log")
        let journalPath = dir.file("journal.jsonl")
        let sandbox = try ChildProcess(
            "/bin/bash", [PackagePaths.journalSandbox, "--timeout", "400", "--script", script, journalPath],
            environment: environment, logDirectory: dir.path, name: "sandbox")

        // The flipper: seeded state changes, recorded with the time they took effect.
        let flips = Mutex<[(machineID: String, state: ReportStateName, atMs: Int64)]>([])
        let flipperSeed = random.next()
        let control = simulator.control
        let flipper = Task {
            var random = SeededRandom(seed: flipperSeed)
            var states = initial
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(random.int(150...700)))
                if Task.isCancelled { break }
                let machine = random.pick(Self.machines)
                let next = states[machine]!.flipped
                try? control.setState(next, machineID: machine)
                let at = wallMs()
                states[machine] = next
                flips.withLock { $0.append((machine, next, at)) }
            }
        }

        var runs: [Run] = []
        /// Polls the pid file every 5 ms (bounded) so that early kills can land inside the daemon's startup.
        func nextRun(after previous: Int32?) async throws -> Run {
            let deadline = wallMs() + 30_000
            while wallMs() < deadline {
                if !sandbox.isRunning { throw HarnessError("the sandbox exited: \(sandbox.stderr.suffix(2000))") }
                if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                   let pid = text.split(separator: " ").last.flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
                   pid != previous {
                    return Run(pid: pid, seenAtMs: wallMs())
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            Issue.record("the daemon did not restart within 30 s")
            throw HarnessError("the daemon did not restart")
        }
        do {
            var previous: Int32?
            for _ in 0..<Self.kills {
                var run = try await nextRun(after: previous)
                // Some kills land in the startup (migrations, first checks), most while running, some runs live long.
                let draw = random.unit()
                let delay = draw < 0.15 ? random.int(0...60) : draw < 0.75 ? random.int(60...1_200) : random.int(2_000...3_500)
                try await Task.sleep(for: .milliseconds(delay))
                kill(run.pid, SIGKILL)
                run.killedAtMs = wallMs()
                runs.append(run)
                previous = run.pid
            }
            flipper.cancel()
            await flipper.value
            let last = try await nextRun(after: previous)
            runs.append(last)
            // The last run settles: its checks see the final states, its deliveries drain.
            try await Task.sleep(for: .seconds(3))
            try await eventually(timeout: .seconds(30), "every wanted transition reached the receiver") {
                let log = try AppDatabase.openReadOnly(path: statePath).transitions().map(\.transition)
                let wanted = Set(log.filter { $0.isWanted(by: Set(DriftState.allCases)) }.map(\.eventID))
                return wanted.isSubset(of: Set(receiver.deliveries.map(\.id)))
            }
            _ = FileManager.default.createFile(atPath: stopFile, contents: nil)
            kill(last.pid, SIGTERM)
            let status = try await sandbox.waitForExit(timeout: .seconds(60))
            #expect(status == 0, "the last run should stop cleanly on SIGTERM (sandbox status \(status)): \(sandbox.stderr.suffix(2000))")
            let endedAt = wallMs()
            try await Self.verify(
                seed: seed, simulator: simulator, receiver: receiver, statePath: statePath, journalPath: journalPath,
                runs: runs, flips: flips.withLock { $0 }, initial: initial, startedAt: startedAt,
                endedAt: endedAt, dir: dir)
        } catch {
            flipper.cancel()
            _ = FileManager.default.createFile(atPath: stopFile, contents: nil)
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = text.split(separator: " ").last.flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                kill(pid, SIGKILL)
            }
            _ = try? await sandbox.waitForExit(timeout: .seconds(30))
            await receiver.shutdown()
            await simulator.shutdown()
            throw error
        }
        await receiver.shutdown()
        await simulator.shutdown()
    }

    static func verify(
        seed: UInt64, simulator: SimulatorServer, receiver: TestWebhookReceiver, statePath: String, journalPath: String,
        runs: [Run], flips: [(machineID: String, state: ReportStateName, atMs: Int64)], initial: [String: ReportStateName],
        startedAt: Int64, endedAt: Int64, dir: TemporaryDirectory
    ) async throws {
        let database = try AppDatabase.open(path: statePath)
        #expect(try database.integrityCheck() == "ok")
        let log = try database.transitions().map(\.transition)
        let byMachine = Dictionary(grouping: log, by: \.machineID)

        // The simulator never created two reports for one key, and never saw a conflicting replay.
        let stats = simulator.control.stats()
        #expect(stats.reportsByKey.values.allSatisfy { $0 == 1 }, "an idempotency key created more than one report")
        #expect(stats.conflictsTotal == 0)

        // Journal: every logged transition is there, with every promised field; a repeat only ever comes from
        // a later process (its predecessor was killed between journaling and marking it journaled), never twice
        // from one process, and each kill repeats at most one entry (README: "The next start repeats an entry
        // only if the process died between writing it and marking it written").
        let journal = readJournal(journalPath).filter { $0["SYSLOG_IDENTIFIER"] == "akua-driftd" }
        let announced = journal.filter { $0["DRIFT_EVENT_ID"] != nil && $0["DRIFT_STATE"] != nil }
        let killedPIDs = Set(runs.filter { $0.killedAtMs != nil }.map { String($0.pid) })
        var repeats = 0
        var repeatsCausedBy: [String: [String]] = [:]
        for transition in log {
            let entries = announced.filter { $0["DRIFT_EVENT_ID"] == transition.eventID }
                .sorted { Int64($0["__REALTIME_TIMESTAMP"] ?? "") ?? 0 < Int64($1["__REALTIME_TIMESTAMP"] ?? "") ?? 0 }
            #expect(!entries.isEmpty, "\(transition.machineID) \(transition.previous)>\(transition.state) is not in the journal")
            let pids = entries.compactMap { $0["_PID"] }
            #expect(Set(pids).count == pids.count, "\(transition.eventID) journaled twice by one process")
            repeats += entries.count - 1
            for (earlier, later) in zip(entries, entries.dropFirst()) {
                let killed = earlier["_PID"] ?? "?"
                #expect(killedPIDs.contains(killed), "\(transition.eventID) was repeated by PID \(later["_PID"] ?? "?") although PID \(killed), which journaled it, was not killed")
                repeatsCausedBy[killed, default: []].append(transition.eventID)
            }
            for entry in entries {
                let problems = TransitionOracle.journalProblems(entry, transition)
                #expect(problems.isEmpty, "journal entry of PID \(entry["_PID"] ?? "?"): \(problems.joined(separator: "; "))")
            }
        }
        for (pid, repeated) in repeatsCausedBy.sorted(by: { $0.key < $1.key }) {
            #expect(repeated.count <= 1, "the kill of PID \(pid) made the next run repeat \(repeated.count) journal entries (at most one per kill): \(repeated)")
        }
        #expect(repeats <= Self.kills, "\(repeats) repeated journal entries for \(Self.kills) kills")
        let announcedIDs = Set(announced.compactMap { $0["DRIFT_EVENT_ID"] })
        let loggedIDs = Set(log.map { $0.eventID })
        #expect(announcedIDs.isSubset(of: loggedIDs), "the journal announced a transition that is not in the log")

        // Receiver: every wanted transition, same id and body every time, valid signatures, in order per machine.
        let wanted = log.filter { $0.isWanted(by: Set(DriftState.allCases)) }
        let deliveries = receiver.deliveries
        #expect(deliveries.allSatisfy { $0.signatureValid })
        // Every body received (each attempt) matches the schema and its transition, field by field.
        receiver.recordProblems()
        let byEventID = Dictionary(log.map { ($0.eventID, $0) }, uniquingKeysWith: { first, _ in first })
        for attempt in receiver.attempts {
            guard let transition = byEventID[attempt.webhookID] else {
                Issue.record("the receiver got webhook-id \(attempt.webhookID), which is not in the transition log")
                continue
            }
            let problems = TransitionOracle.payloadProblems(attempt.body, transition)
            #expect(problems.isEmpty, "\(problems.joined(separator: "; "))")
        }
        for (id, group) in Dictionary(grouping: receiver.attempts, by: \.webhookID) {
            #expect(Set(group.map(\.body)).count == 1, "event \(id) was delivered with different bodies")
        }
        let deliveredIDs = Set(deliveries.map { $0.id })
        let wantedIDs = Set(wanted.map { $0.eventID })
        #expect(deliveredIDs == wantedIDs, "the receiver's events differ from the wanted transitions")
        for machine in Self.machines {
            let order = wanted.filter { $0.machineID == machine }.map(\.eventID)
            var seen: [String] = []
            for delivery in deliveries where delivery.machineID == machine && !seen.contains(delivery.id) { seen.append(delivery.id) }
            #expect(seen == order, "deliveries for \(machine) out of order")
        }

        // Every report behind a transition is one the simulator made, with that state, in creation order.
        let client = try AkuaClient(configuration: AkuaClientConfiguration(baseURL: simulator.baseURL, token: Self.token, environment: [:]), logger: Logger(label: "chaos") { _ in SwiftLogNoOpLogHandler() })
        var history: [String: [DriftReport]] = [:]
        for machine in Self.machines {
            var cursor: String?
            var reports: [DriftReport] = []
            repeat {
                let page = try await client.listDriftReports(machineID: machine, cursor: cursor, limit: 100)
                reports += page.data
                cursor = page.hasMore ? page.nextCursor : nil
            } while cursor != nil
            history[machine] = reports.reversed()
        }
        await client.shutdown()
        for machine in Self.machines {
            let position = Dictionary(uniqueKeysWithValues: (history[machine] ?? []).enumerated().map { ($0.element.id, ($0.offset, $0.element)) })
            var lastPosition = -1
            for transition in byMachine[machine] ?? [] where transition.cause == .report {
                let report = try #require(transition.report)
                guard let (index, original) = position[report.id] else {
                    Issue.record("\(machine): transition to \(transition.state) cites report \(report.id), which the simulator never made")
                    continue
                }
                #expect(original.state == report.state && report.state.driftState == transition.state)
                #expect(index > lastPosition, "\(machine): transitions out of report order")
                lastPosition = index
            }
        }

        // Ground truth: every simulator state that lasted longer than one interval while a daemon was up
        // (from its "started" journal entry until it was killed) was checked and held by the daemon.
        var startedByPID: [Int32: Int64] = [:]
        for entry in journal where entry["MESSAGE"]?.contains(" started: ") == true {
            if let pid = entry["_PID"].flatMap({ Int32($0) }), let micros = entry["__REALTIME_TIMESTAMP"].flatMap({ Int64($0) }) {
                startedByPID[pid] = micros / 1000
            }
        }
        let windows: [(Int64, Int64)] = runs.compactMap { run in
            guard let started = startedByPID[run.pid] else { return nil }
            return (started, run.killedAtMs ?? endedAt)
        }
        var segments: [Segment] = []
        for machine in Self.machines {
            var from = startedAt
            var state = Self.driftState(initial[machine]!)
            for flip in flips where flip.machineID == machine {
                segments.append(Segment(machineID: machine, state: state, fromMs: from, toMs: flip.atMs))
                from = flip.atMs
                state = Self.driftState(flip.state)
            }
            segments.append(Segment(machineID: machine, state: state, fromMs: from, toMs: endedAt))
        }
        // One interval, plus slack for a slow request and a slow host.
        let required = Self.intervalMs + 800
        let mustSee = segments.filter { segment in
            segment.toMs - segment.fromMs > Self.intervalMs && windows.contains { window in
                min(segment.toMs, window.1) - max(segment.fromMs, window.0) >= required
            }
        }
        for segment in mustSee {
            let reports: [DriftReport] = history[segment.machineID] ?? []
            let firstSecond = segment.fromMs / 1000
            let lastSecond = segment.toMs / 1000
            let created = reports.contains { (report: DriftReport) -> Bool in
                report.state.driftState == segment.state && report.createdAt >= firstSecond && report.createdAt <= lastSecond
            }
            #expect(created, "\(segment.machineID) was \(segment.state.rawValue) from \(segment.fromMs) to \(segment.toMs) with a daemon up, but no report saw it")
            let timeline = byMachine[segment.machineID] ?? []
            let heldAtStart = timeline.last { $0.at <= segment.fromMs }?.state == segment.state
            let reached = timeline.contains { $0.state == segment.state && $0.at >= segment.fromMs && $0.at <= segment.toMs + 1_500 }
            #expect(heldAtStart || reached, "\(segment.machineID) was \(segment.state.rawValue) from \(segment.fromMs) to \(segment.toMs) (\(segment.toMs - segment.fromMs) ms, daemon up) but the daemon never recorded it")
        }
        let startupLags = runs.compactMap { run in startedByPID[run.pid].map { $0 - run.seenAtMs } }
        let runLog = (try? String(contentsOfFile: dir.file("runs.log"), encoding: .utf8)) ?? ""
        let killed = runLog.split(separator: "\n").filter { $0.hasSuffix("exit 137") }.count
        print("""
            [reliability] chaos (seed \(seed)): \(runs.count) runs, \(killed) killed by SIGKILL, \(startedByPID.count) reached "started" \
            (startup \(startupLags.min() ?? 0)…\(startupLags.max() ?? 0) ms); \(flips.count) flips, \(segments.count) segments, \
            \(mustSee.count) had to be seen; \(log.count) transitions, \(repeats) journal repeats after a kill, \
            \(deliveries.count) deliveries for \(wanted.count) events; \(stats.createsTotal) reports for \(stats.requestsByKey.count) keys
            """)
        #expect(killed >= Self.kills, "only \(killed) runs died of SIGKILL")
        #expect(mustSee.count >= 12, "only \(mustSee.count) segments could be checked: the runs were too short to prove anything")
    }
}
