import DriftSystemd
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The figures of `make bench-large` (one fleet, 1,000,000 machines by default).
struct LargeFleetResult: Codable, Sendable {
    var machines: Int
    var configBytes: Int = 0
    /// `akua-driftd check-config` on the config file, whole process.
    var checkConfigSeconds: Double?
    var readyColdSeconds: Double?
    var readyRestartSeconds: Double?
    var reloadSighupToReadySeconds: Double?
    var reloadReloadingToReadySeconds: Double?
    /// Checks the simulator saw while the cold-started daemon ran (its first round at max_in_flight).
    var firstRoundChecks: Int?
    var rssAfterColdStartMiB: Double?
    var rssAfterRestartMiB: Double?
    /// The highest VmHWM / ru_maxrss of any daemon process of the run.
    var rssPeakMiB: Double?
    var daemonLives: [FleetResult.Life] = []
    var totalSeconds: Double?
}

extension FleetBench {
    /// Start-up, reload and memory at a size where the other phases (saturation, wrk) make no sense:
    /// check-config, cold start to READY=1 with an empty state file and its first `largeRunSeconds` of
    /// checks, a SIGHUP with one machine changed, then a restart to READY=1 on the existing state file.
    func runLarge(runSeconds: Double) async throws -> LargeFleetResult {
        let started = Clocks.monotonicNs()
        var large = LargeFleetResult(machines: plan.machines)
        files = try FleetFiles(directory: directory, machines: plan.machines)
        notify = try NotifyListener(path: directory + "/notify.sock")
        defer {
            daemon?.kill9()
            sim?.kill9()
            notify.close()
        }
        try await startSimulator()
        log("simulator up after \(fmt(Clocks.seconds(from: started, to: Clocks.monotonicNs()), 1)) s")
        statePath = directory + "/state.sqlite"
        configPath = try files.writeConfig(
            "config.toml", baseURL: baseURL, webhookURL: receiver.url, interval: "1h", catchUpWindow: "1s",
            maxInFlight: plan.maxInFlight, statePath: statePath)
        large.configBytes = (try? FileManager.default.attributesOfItem(atPath: configPath)[.size] as? Int) ?? 0

        let check = try ChildProcess(
            tools.driftd, ["check-config", "--config", configPath],
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory, name: "check-config")
        guard let checked = await check.waitForExit(timeout: 300), checked.status == 0 else {
            check.kill9()
            throw BenchError("check-config failed: \(check.stderrTail())")
        }
        large.checkConfigSeconds = Clocks.seconds(from: check.spawnedAt, to: Clocks.monotonicNs())
        log("check-config of \(large.configBytes) bytes: \(fmt(large.checkConfigSeconds, 2)) s, max RSS \(checked.maxRSSKiB / 1024) MiB")

        let before = try await admin.stats()
        let (cold, ready) = try await startDaemon(phase: "cold")
        large.readyColdSeconds = Clocks.seconds(from: cold.spawnedAt, to: ready.message.at)
        log("READY=1 after \(fmt(large.readyColdSeconds, 2)) s (empty state file)")
        _ = await sampleRSS(cold, seconds: runSeconds)
        large.rssAfterColdStartMiB = ProcStats.memory(pid: cold.pid).map { Double($0.rssKiB) / 1024 }
        large.firstRoundChecks = try await admin.stats().createsTotal - before.createsTotal

        let changed = files.machineIDs[0]
        configPath = try files.writeConfig(
            "config.toml", baseURL: baseURL, webhookURL: receiver.url, interval: "1h", catchUpWindow: "1s",
            maxInFlight: plan.maxInFlight, statePath: statePath, overrides: [changed: "30m"])
        let reload = try await sighup(cold)
        large.reloadSighupToReadySeconds = reload.sighupToReady
        large.reloadReloadingToReadySeconds = reload.reloadingToReady
        log("reload (1 of \(plan.machines) changed): SIGHUP -> READY=1 \(fmt(reload.sighupToReady * 1000, 0)) ms")
        await Clocks.sleep(seconds: 2)
        notePeak(cold)
        if let exit = await cold.stop() { record(exit, phase: "cold start+first round+reload") }
        daemon = nil

        let (warm, readyAgain) = try await startDaemon(phase: "restart")
        large.readyRestartSeconds = Clocks.seconds(from: warm.spawnedAt, to: readyAgain.message.at)
        log("restart: READY=1 after \(fmt(large.readyRestartSeconds, 2)) s (existing state file)")
        _ = await sampleRSS(warm, seconds: min(runSeconds, 10))
        large.rssAfterRestartMiB = ProcStats.memory(pid: warm.pid).map { Double($0.rssKiB) / 1024 }
        notePeak(warm)
        if let exit = await warm.stop() { record(exit, phase: "restart") }
        daemon = nil
        _ = await sim?.stop()
        sim = nil
        large.rssPeakMiB = Double(peakRSSKiB) / 1024
        large.daemonLives = result.daemonLives
        large.totalSeconds = Clocks.seconds(from: started, to: Clocks.monotonicNs())
        return large
    }
}
