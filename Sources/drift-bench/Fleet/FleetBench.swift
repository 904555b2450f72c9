import DriftCore
import DriftStore
import DriftSystemd
import Foundation

/// How long each phase of a fleet run lasts (the smoke run shortens everything).
struct FleetPlan: Sendable {
    var machines: Int
    var idleSeconds: Double = 60
    var settleSeconds: Double = 3
    var saturationWarmup: Double = 3
    var saturationSeconds: Double = 10
    var wrkSeconds: Double = 10
    var wrkThreads: [Int] = [1, 2]
    var lagWarmup: Double = 3
    var lagSeconds: Double = 30
    /// Checks per second the lag probe offers: 1,000 for `make bench` (the README's targets); the smoke run's
    /// debug client cannot sustain that on two cores, so it measures at a rate it can.
    var lagRate: Int = 1000
    var maxInFlight: Int = 32
    /// Machines the curl + jq shell loop checks (its CPU per machine is the baseline of the daemon's per check).
    var curlLoopMachines = 200
    /// Where a CPU profile of the idle daemon goes (flame graph per fleet size), or nil for none.
    var profileDirectory: String?
    var profileSeconds: Double = 30
}

/// The executables a fleet run starts.
struct BenchTools: Sendable {
    var driftd: String
    var sim: String
    var bench: String
    var wrkScript: String
}

/// One fleet size, end to end: akua-sim with N machines, `akua-driftd run` under our own NOTIFY_SOCKET,
/// cold start, first round, restart, idle window, one-machine reload, saturation, the wrk ceiling of the
/// same simulator, then the in-process engine probe at `plan.lagRate` checks/s with the webhook receiver.
final class FleetBench: @unchecked Sendable {
    let plan: FleetPlan
    let tools: BenchTools
    let directory: String
    let receiver: BenchWebhookReceiver
    let log: @Sendable (String) -> Void

    var result: FleetResult
    var files: FleetFiles!
    var notify: NotifyListener!
    var sim: ChildProcess?
    var daemon: ChildProcess?
    var admin: SimAdmin!
    var baseURL = ""
    var configPath = ""
    var statePath = ""
    private let hourMs: Int64 = 3_600_000
    /// The highest VmHWM / ru_maxrss of any daemon process so far (KiB).
    var peakRSSKiB = 0

    init(plan: FleetPlan, tools: BenchTools, directory: String, receiver: BenchWebhookReceiver, log: @escaping @Sendable (String) -> Void) {
        self.plan = plan
        self.tools = tools
        self.directory = directory
        self.receiver = receiver
        self.log = log
        result = FleetResult(machines: plan.machines)
    }

    func run() async throws -> FleetResult {
        files = try FleetFiles(directory: directory, machines: plan.machines)
        result.randomMachines = files.randomMachines
        notify = try NotifyListener(path: directory + "/notify.sock")
        defer {
            daemon?.kill9()
            sim?.kill9()
            notify.close()
        }
        try await startSimulator()
        try await coldStartAndFirstRound()
        // Idle is measured on the restarted daemon: no first-round burst behind it (its connections
        // closing, its memory high-water mark), only the steady rhythm of a long-running daemon.
        try await restart()
        try await idleWindow()
        if let profiles = plan.profileDirectory { try await profileIdle(into: profiles) }
        try await curlLoop()
        try await reloadOneMachine()
        try await saturation()
        if let daemon { notePeak(daemon) }
        if let exit = await daemon?.stop() { record(exit, phase: "restart+idle+reload+saturation") }
        daemon = nil
        result.rssPeakMiB = peakRSSKiB > 0 ? Double(peakRSSKiB) / 1024 : nil
        try await ceiling()
        try await lagAndDelivery()
        _ = await sim?.stop()
        sim = nil
        return result
    }

    // MARK: Phases

    func startSimulator() async throws {
        let sim = try ChildProcess(
            tools.sim,
            ["--listen", "127.0.0.1:0", "--token", files.token, "--machine-count", String(files.fixedMachines),
             "--scenario", files.scenarioPath, "--ttl", "2h", "--seed", "1"],
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory, name: "akua-sim")
        self.sim = sim
        let deadline = Clocks.monotonicNs() + 120_000_000_000
        while Clocks.monotonicNs() < deadline {
            if let line = sim.stdout.split(separator: "\n").first(where: { $0.hasPrefix("akua-sim listening on ") }) {
                baseURL = String(line.dropFirst("akua-sim listening on ".count))
                admin = SimAdmin(adminURL: String(baseURL.dropLast(3)) + "/_sim")
                return
            }
            guard sim.isRunning else { break }
            await Clocks.sleep(seconds: 0.02)
        }
        throw BenchError("akua-sim did not start: \(sim.stderrTail())")
    }

    private func coldStartAndFirstRound() async throws {
        statePath = directory + "/state.sqlite"
        configPath = try files.writeConfig(
            "config.toml", baseURL: baseURL, webhookURL: receiver.url, interval: "1h", catchUpWindow: "1s",
            maxInFlight: plan.maxInFlight, statePath: statePath)
        let (daemon, ready) = try await startDaemon(phase: "cold")
        result.readyColdSeconds = Clocks.seconds(from: daemon.spawnedAt, to: ready.message.at)
        log("READY=1 after \(fmt(result.readyColdSeconds, 3)) s (empty state file)")

        // The first round is over when every machine has a recorded report (polled in the state file every 50 ms).
        let timeout = Double(plan.machines) / 100 + 120
        let probe = StateProbe(path: statePath)
        var doneAt: UInt64?
        while Clocks.seconds(from: ready.message.at, to: Clocks.monotonicNs()) < timeout, daemon.isRunning {
            if let count = probe.machinesWithReport(), count >= plan.machines {
                doneAt = Clocks.monotonicNs()
                break
            }
            await Clocks.sleep(seconds: 0.05)
        }
        guard let doneAt else {
            throw BenchError("the first round did not finish within \(Int(timeout)) s: \(daemon.stderrTail())")
        }
        let seconds = Clocks.seconds(from: ready.message.at, to: doneAt)
        result.firstRoundSeconds = seconds
        result.firstRoundChecksPerSecond = Double(plan.machines) / max(seconds, 0.001)
        log("first round: \(plan.machines) checks recorded in \(fmt(seconds, 2)) s")
        await Clocks.sleep(seconds: plan.settleSeconds)
        result.rssAfterFirstRoundMiB = ProcStats.memory(pid: daemon.pid).map { Double($0.rssKiB) / 1024 }
    }

    private func idleWindow() async throws {
        guard let daemon else { return }
        let before = try await admin.stats()
        let cpu0 = ProcStats.cpuSeconds(pid: daemon.pid) ?? 0
        let switches0 = ProcStats.contextSwitches(pid: daemon.pid)
        let cursor = notify.count
        let t0 = Clocks.monotonicNs()
        let perf = await PerfStat.measure(pid: daemon.pid, seconds: plan.idleSeconds, workDirectory: directory)
        let remaining = plan.idleSeconds - Clocks.seconds(from: t0, to: Clocks.monotonicNs())
        if remaining > 0 { await Clocks.sleep(seconds: remaining) }
        let t1 = Clocks.monotonicNs()
        let cpu1 = ProcStats.cpuSeconds(pid: daemon.pid) ?? 0
        let switches1 = ProcStats.contextSwitches(pid: daemon.pid)
        let after = try await admin.stats()
        let memory = ProcStats.memory(pid: daemon.pid)

        let seconds = Clocks.seconds(from: t0, to: t1)
        let minutes = seconds / 60
        var procSwitches = 0
        for (tid, count) in switches1.perThread { procSwitches += count - (switches0.perThread[tid] ?? 0) }
        let pings = notify.all().dropFirst(cursor).filter { $0.has("WATCHDOG=1") && $0.at >= t0 && $0.at <= t1 }.count
        let checks = Double(after.createsTotal - before.createsTotal)
        result.idle = FleetResult.Idle(
            seconds: seconds, cpuSeconds: cpu1 - cpu0, cpuSecondsPerMinute: (cpu1 - cpu0) / minutes,
            wakeupsPerMinute: perf.map { Double($0.wakeups) / minutes },
            contextSwitchesPerMinute: Double(perf?.contextSwitches ?? procSwitches) / minutes,
            procContextSwitchesPerMinute: Double(procSwitches) / minutes,
            checksPerMinute: checks / minutes, dueChecksPerMinute: Double(plan.machines) * 60 / 3600,
            watchdogPingsPerMinute: Double(pings) / minutes, threads: switches1.threads,
            wakeupsPerEvent: perf.map { Double($0.wakeups) / max(1, checks + Double(pings)) })
        if let memory {
            result.rssSteadyMiB = Double(memory.rssKiB) / 1024
            result.rssPerMachineKiB = Double(memory.rssKiB) / Double(plan.machines)
            peakRSSKiB = max(peakRSSKiB, memory.peakKiB)
        }
        log("idle \(Int(seconds)) s: cpu \(fmt(cpu1 - cpu0, 2)) s, \(perf.map { "\($0.wakeups) wake-ups, \($0.contextSwitches) context switches (perf)" } ?? "\(procSwitches) context switches (/proc)"), \(Int(checks)) checks, \(pings) watchdog pings; RSS \(fmt(result.rssSteadyMiB, 1)) MiB")
    }

    /// `perf record -g` of the idle daemon (1 h interval: the low-rate check path) into a flame graph.
    private func profileIdle(into profiles: String) async throws {
        guard let daemon else { return }
        try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
        let out = profiles + "/idle-\(plan.machines)"
        let before = try await admin.stats()
        let ok = await PerfProfile.record(
            pid: daemon.pid, seconds: plan.profileSeconds, out: out,
            title: "akua-driftd idle, \(BenchReport.count(plan.machines)) machines, 1 h interval", workDirectory: directory)
        let checks = try await admin.stats().createsTotal - before.createsTotal
        log(ok ? "profile of the idle daemon (\(checks) checks): \(out).svg" : "perf profile failed (perf missing or not permitted)")
    }

    /// The baseline of the CPU per check: what a user would run from a systemd timer instead of the daemon,
    /// a shell loop doing one `curl` POST (the same request as the daemon's) and one `jq` per machine.
    private func curlLoop() async throws {
        let count = min(plan.curlLoopMachines, files.fixedMachines)
        try files.write("loop-machines", (1...count).map(FleetFiles.fixedID).joined(separator: "\n") + "\n")
        let script = try files.write("curl-loop.sh", """
            #!/bin/bash
            # Drift check of every machine: one POST per machine, its state read with jq.
            set -u
            token=$(cat "$DIR/token")
            while read -r id; do
              state=$(curl -sS -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \\
                -H "Idempotency-Key: loop.$NONCE.$id" -d '{"trigger":"schedule"}' \\
                "$BASE/machines/$id/drift_reports" | jq -r .state)
              echo "$id $state"
            done < "$DIR/loop-machines"

            """, mode: 0o755)
        let loop = try ChildProcess(
            "/bin/bash", [script],
            environment: ["PATH": "/usr/bin:/bin", "DIR": directory, "BASE": baseURL, "NONCE": String(Clocks.wallUs())],
            logDirectory: directory, name: "curl-loop")
        guard let exit = await loop.waitForExit(timeout: Double(count) + 120), exit.status == 0 else {
            loop.kill9()
            throw BenchError("the curl loop failed: \(loop.stderrTail())")
        }
        let states = loop.stdout.split(separator: "\n").filter { line in
            line.split(separator: " ").count == 2 && !line.hasSuffix(" null") }.count
        guard states == count else { throw BenchError("the curl loop read \(states) states of \(count) machines: \(loop.stderrTail())") }
        let seconds = Clocks.seconds(from: loop.spawnedAt, to: Clocks.monotonicNs())
        result.curlLoop = FleetResult.CurlLoop(
            machines: count, seconds: seconds, cpuSeconds: exit.cpuSeconds, cpuPerMachineUs: exit.cpuSeconds / Double(count) * 1e6)
        log("curl + jq loop over \(count) machines: \(fmt(exit.cpuSeconds, 2)) s CPU (\(fmt(exit.cpuSeconds / Double(count) * 1000, 1)) ms per machine) in \(fmt(seconds, 1)) s; daemon \(fmt(result.cpuPerCheckUs, 0)) µs per check")
    }

    private func restart() async throws {
        guard let old = daemon else { return }
        let before = try await admin.stats()
        let from = Clocks.wallUs() / 1000
        notePeak(old)
        if let exit = await old.stop() { record(exit, phase: "cold start+first round") }
        daemon = nil
        let (daemon, ready) = try await startDaemon(phase: "restart")
        result.readyRestartSeconds = Clocks.seconds(from: daemon.spawnedAt, to: ready.message.at)
        await Clocks.sleep(seconds: plan.settleSeconds)
        let after = try await admin.stats()
        let check = unexpectedReports(before: before, after: after, fromMs: from, toMs: Clocks.wallUs() / 1000, intervalMs: hourMs, changed: [])
        result.restartUnexpectedReports = check.unexpected
        result.restartReportsCreated = after.createsTotal - before.createsTotal
        log("restart: READY=1 after \(fmt(result.readyRestartSeconds, 3)) s; reports created since: \(result.restartReportsCreated ?? -1) (\(check.unexpected) not due)")
    }

    private func reloadOneMachine() async throws {
        guard let daemon else { return }
        let changed = files.machineIDs[0]
        configPath = try files.writeConfig(
            "config.toml", baseURL: baseURL, webhookURL: receiver.url, interval: "1h", catchUpWindow: "1s",
            maxInFlight: plan.maxInFlight, statePath: statePath, overrides: [changed: "30m"])
        let before = try await admin.stats()
        let from = Clocks.wallUs() / 1000
        let reload = try await sighup(daemon)
        result.reloadSighupToReadySeconds = reload.sighupToReady
        result.reloadReloadingToReadySeconds = reload.reloadingToReady
        await Clocks.sleep(seconds: plan.settleSeconds)
        let after = try await admin.stats()
        let check = unexpectedReports(before: before, after: after, fromMs: from, toMs: Clocks.wallUs() / 1000, intervalMs: hourMs, changed: [changed])
        result.reloadUnexpectedReports = check.unexpected
        result.reloadReportsCreated = after.createsTotal - before.createsTotal
        log("reload (1 machine changed): SIGHUP -> READY=1 \(fmt(reload.sighupToReady * 1000, 1)) ms, RELOADING=1 -> READY=1 \(fmt(reload.reloadingToReady.map { $0 * 1000 }, 1)) ms; reports created since: \(result.reloadReportsCreated ?? -1) (\(check.unexpected) not due)")
    }

    private func saturation() async throws {
        guard let daemon, let sim else { return }
        configPath = try files.writeConfig(
            "config.toml", baseURL: baseURL, webhookURL: receiver.url, interval: "1s", catchUpWindow: "1s",
            maxInFlight: plan.maxInFlight, statePath: statePath)
        let reload = try await sighup(daemon)
        result.reloadAllSeconds = reload.sighupToReady
        var saturationRSSKiB = await sampleRSS(daemon, seconds: plan.saturationWarmup)
        let (s0, t0) = try await timedStats()
        let daemonCPU0 = ProcStats.cpuSeconds(pid: daemon.pid) ?? 0
        let simCPU0 = ProcStats.cpuSeconds(pid: sim.pid) ?? 0
        saturationRSSKiB = max(saturationRSSKiB, await sampleRSS(daemon, seconds: plan.saturationSeconds))
        if saturationRSSKiB > 0 { result.rssSaturationMiB = Double(saturationRSSKiB) / 1024 }
        notePeak(daemon)
        let daemonCPU1 = ProcStats.cpuSeconds(pid: daemon.pid) ?? 0
        let simCPU1 = ProcStats.cpuSeconds(pid: sim.pid) ?? 0
        let (s1, t1) = try await timedStats()
        let seconds = Clocks.seconds(from: t0, to: t1)
        result.saturationChecksPerSecond = Double(s1.requestsTotal - s0.requestsTotal) / seconds
        result.saturationOfferedPerSecond = Double(plan.machines)
        result.saturationDaemonCPU = (daemonCPU1 - daemonCPU0) / seconds
        result.saturationSimCPU = (simCPU1 - simCPU0) / seconds
        guard daemon.isRunning else { throw BenchError("akua-driftd died during saturation: \(daemon.stderrTail())") }
        log("saturation (interval 1 s, \(plan.machines) checks/s offered): \(fmt(result.saturationChecksPerSecond, 0)) checks/s; daemon \(fmt(result.saturationDaemonCPU.map { $0 * 100 }, 0))% cpu, sim \(fmt(result.saturationSimCPU.map { $0 * 100 }, 0))% cpu; RSS up to \(fmt(result.rssSaturationMiB, 1)) MiB, peak so far \(fmt(Double(peakRSSKiB) / 1024, 1)) MiB")
    }

    private func ceiling() async throws {
        for threads in plan.wrkThreads {
            let run = try await Wrk.run(
                baseURL: baseURL, script: tools.wrkScript, token: files.token, machines: files.fixedMachines,
                prefix: FleetFiles.fixedPrefix, threads: threads, connections: plan.maxInFlight, seconds: plan.wrkSeconds,
                workDirectory: directory)
            guard run.non2xx == 0 else { throw BenchError("wrk got \(run.non2xx) error responses: check bench/wrk-create.lua against the simulator") }
            result.wrk.append(run)
            log("wrk -t\(threads) -c\(plan.maxInFlight): \(fmt(run.requestsPerSecond, 0)) creates/s")
        }
        result.wrkCeiling = result.wrk.map(\.requestsPerSecond).max()
        let out = directory + "/client-probe.json"
        let probe = try ChildProcess(
            tools.bench,
            ["client-probe", "--url", baseURL, "--token", files.token, "--machines", String(files.fixedMachines),
             "--concurrency", String(plan.maxInFlight), "--seconds", String(plan.wrkSeconds / 2), "--out", out],
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory, name: "client-probe")
        if let exit = await probe.waitForExit(timeout: plan.wrkSeconds + 60), exit.status == 0,
           let data = try? Data(contentsOf: URL(fileURLWithPath: out)) {
            result.clientProbe = try? JSONDecoder().decode(ClientProbeCommand.Result.self, from: data)
            log("client alone, \(plan.maxInFlight) in flight: AkuaClient \(fmt(result.clientProbe?.akuaClientPerSecond, 0)) creates/s, bare AsyncHTTPClient \(fmt(result.clientProbe?.bareClientPerSecond, 0)) creates/s")
        } else {
            probe.kill9()
            log("client-probe failed: \(probe.stderrTail())")
        }
        if let ceiling = result.wrkCeiling, let sustained = result.saturationChecksPerSecond, ceiling > 0 {
            result.ratio = sustained / ceiling
        }
    }

    private func lagAndDelivery() async throws {
        let intervalMs = max(1000, plan.machines * 1000 / max(1, plan.lagRate))
        let intervalSeconds = Double(intervalMs) / 1000
        result.lagIntervalSeconds = intervalSeconds
        // Machines whose slot begins between the probe marking current slots done and its engine starting
        // are caught up, spread over the catch-up window: 1 s, inside the warm-up, so that the window measures
        // the steady rhythm (lag counts from the slot, so a catch-up spread over a whole interval would show).
        let config = try files.writeConfig(
            "config-lag.toml", baseURL: baseURL, webhookURL: receiver.url, interval: "\(intervalMs)ms",
            catchUpWindow: "1s", maxInFlight: plan.maxInFlight, statePath: directory + "/lag.sqlite")
        let out = directory + "/engine-probe.json"
        receiver.reset()
        let probe = try ChildProcess(
            tools.bench,
            ["engine-probe", "--config", config, "--warmup", String(plan.lagWarmup), "--duration", String(plan.lagSeconds), "--out", out],
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory, name: "engine-probe")
        await Clocks.sleep(seconds: plan.lagWarmup)
        receiver.reset()
        guard let exit = await probe.waitForExit(timeout: plan.lagWarmup + plan.lagSeconds + 120), exit.status == 0 else {
            probe.kill9()
            throw BenchError("engine-probe failed: \(probe.stderrTail())")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let probeResult = try JSONDecoder().decode(EngineProbeCommand.Result.self, from: data)
        result.lagMs = probeResult.lagMs
        result.lagChecksPerSecond = probeResult.checksPerSecond
        result.deliveryMs = Percentiles(try deliveryLatencies(statePath: directory + "/lag.sqlite"))
        log("engine at \(fmt(probeResult.checksPerSecond, 0)) checks/s (interval \(fmt(intervalSeconds, 3)) s, \(plan.lagRate) offered): lag from the occurrence p50 \(fmt(result.lagMs?.p50, 1)) p99 \(fmt(result.lagMs?.p99, 1)) max \(fmt(result.lagMs?.max, 1)) ms; \(result.deliveryMs?.count ?? 0) deliveries p50 \(fmt(result.deliveryMs?.p50, 1)) p99 \(fmt(result.deliveryMs?.p99, 1)) ms")
    }

    // MARK: Helpers

    func startDaemon(phase: String) async throws -> (ChildProcess, (index: Int, message: NotifyListener.Message)) {
        let cursor = notify.count
        let child = try ChildProcess(
            tools.driftd, ["run", "--config", configPath, "--log-target", "stderr"],
            environment: ["PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "20000000"],
            logDirectory: directory, name: "akua-driftd-\(phase)")
        daemon = child
        guard let ready = await notify.next(after: cursor, timeout: 120, where: { $0.has("READY=1") }) else {
            child.kill9()
            throw BenchError("akua-driftd (\(phase)) sent no READY=1: \(child.stderrTail())")
        }
        return (child, ready)
    }

    func sighup(_ daemon: ChildProcess) async throws -> (sighupToReady: Double, reloadingToReady: Double?) {
        let cursor = notify.count
        let sent = Clocks.monotonicNs()
        daemon.signal(SIGHUP)
        guard let ready = await notify.next(after: cursor, timeout: 120, where: { $0.has("READY=1") }) else {
            throw BenchError("akua-driftd sent no READY=1 after SIGHUP: \(daemon.stderrTail())")
        }
        let reloading = notify.all()[cursor..<ready.index].first { $0.has("RELOADING=1") }
        return (Clocks.seconds(from: sent, to: ready.message.at), reloading.map { Clocks.seconds(from: $0.at, to: ready.message.at) })
    }

    /// Stats and the monotonic midpoint of the request (the counters are read somewhere in between).
    private func timedStats() async throws -> (SimAdmin.Stats, UInt64) {
        let a = Clocks.monotonicNs()
        let stats = try await admin.stats()
        let b = Clocks.monotonicNs()
        return (stats, a + (b - a) / 2)
    }

    /// Machines that got a new report between two stats snapshots although none of their slots began in
    /// that window (give or take 2 s) and they were not `changed`: reports re-created for nothing.
    private func unexpectedReports(
        before: SimAdmin.Stats, after: SimAdmin.Stats, fromMs: Int64, toMs: Int64, intervalMs: Int64, changed: Set<String>
    ) -> (unexpected: Int, due: Int) {
        var unexpected = 0
        var due = 0
        for (id, count) in after.reportsByMachine where count > (before.reportsByMachine[id] ?? 0) {
            if changed.contains(id) { continue }
            let phase = SlotMath.phase(machineID: id, intervalMs: intervalMs)
            if SlotMath.slotStart(containing: toMs + 2_000, intervalMs: intervalMs, phaseMs: phase) > fromMs - 2_000 {
                due += 1
            } else {
                unexpected += 1
            }
        }
        return (unexpected, due)
    }

    /// From each transition's recording (its `at` in the state file's transition log) to the first arrival
    /// of its event at the receiver, in ms.
    private func deliveryLatencies(statePath: String) throws -> [Double] {
        let recorded = try AppDatabase.openReadOnly(path: statePath).transitions()
        var at: [String: Int64] = [:]
        for record in recorded { at[record.transition.eventID] = record.transition.at }
        var first: [String: Int64] = [:]
        for delivery in receiver.received() where first[delivery.eventID].map({ delivery.arrivedUs < $0 }) ?? true {
            first[delivery.eventID] = delivery.arrivedUs
        }
        return first.compactMap { id, arrivedUs in at[id].map { Double(arrivedUs) / 1000 - Double($0) } }
    }

    /// Folds the process's VmHWM (its peak resident set so far) into the run's peak.
    func notePeak(_ process: ChildProcess) {
        if let memory = ProcStats.memory(pid: process.pid) { peakRSSKiB = max(peakRSSKiB, memory.peakKiB) }
    }

    /// Samples VmRSS every 200 ms for `seconds` and returns the highest sample (KiB, 0 when none).
    func sampleRSS(_ process: ChildProcess, seconds: Double) async -> Int {
        let end = Clocks.monotonicNs() + UInt64(max(0, seconds) * 1e9)
        var highest = 0
        while true {
            if let memory = ProcStats.memory(pid: process.pid) { highest = max(highest, memory.rssKiB) }
            let now = Clocks.monotonicNs()
            guard now < end else { return highest }
            await Clocks.sleep(seconds: min(0.2, Double(end - now) / 1e9))
        }
    }

    func record(_ exit: ChildProcess.Exit, phase: String) {
        peakRSSKiB = max(peakRSSKiB, exit.maxRSSKiB)
        result.daemonLives.append(FleetResult.Life(
            phase: phase, cpuSeconds: exit.cpuSeconds, contextSwitches: exit.contextSwitches,
            maxRSSMiB: Double(exit.maxRSSKiB) / 1024, exitStatus: exit.status))
    }

    /// "watching 10 machines: 7 in_sync, 1 drifted, 2 unknown; next check in 3s" -> 2.
    static func unknownCount(_ status: String?) -> Int? {
        guard let status, let range = status.range(of: " unknown") else { return nil }
        let digits = status[..<range.lowerBound].reversed().prefix { $0.isNumber }
        return Int(String(digits.reversed()))
    }
}

/// "1.234" with `digits` decimals, or "—" for a missing value.
func fmt(_ value: Double?, _ digits: Int) -> String {
    guard let value, value.isFinite else { return "—" }
    return String(format: "%.\(digits)f", value)
}

#if canImport(Glibc)
import Glibc
#endif
