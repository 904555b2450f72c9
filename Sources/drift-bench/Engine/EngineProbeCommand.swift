import AkuaAPI
import ArgumentParser
import DriftConfig
import DriftCore
import DriftDaemon
import DriftStore
import DriftSystemd
import DriftWebhooks
import Foundation
import Logging
import Synchronization

/// `drift-bench engine-probe`: the daemon's engine, client, state file and webhook dispatcher, assembled
/// from a config file exactly as `DaemonService.start()` does, recording the scheduling lag of every check
/// started in the measurement window. Run as its own process by `drift-bench run`, so that nothing else
/// shares its threads.
///
/// Lag is measured from the occurrence's own instant (`Occurrence.at`: the slot start or the refresh time,
/// as the engine's `checkStarted` callback reports it) to the moment the check starts, whatever the timer
/// did in between. (A due time would not do: the scheduler re-arms a check whose timer fires more than
/// `SchedulerCore.lateToleranceMs` late, so lateness beyond that would never show.)
struct EngineProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-probe", abstract: "Run the engine from a config and record scheduling lag (used by `run`).",
        shouldDisplay: false)

    @Option(help: "Daemon config file.")
    var config: String

    @Option(help: "Seconds before measuring.")
    var warmup: Double = 3

    @Option(help: "Seconds of measurement.")
    var duration: Double = 15

    @Option(help: "Where to write the JSON result.")
    var out: String

    @Option(help: "Record every machine's current slot as done first, so checks come at their slots (a steady rate of machines/interval) instead of a catch-up round.")
    var steady: Bool = true

    struct Result: Codable {
        /// Check start minus its occurrence's instant.
        var lagMs: Percentiles?
        var checksStarted: Int
        var checksPerSecond: Double
        var cpuSeconds: Double
    }

    /// Marks the slot each machine is in now as completed, with an in-sync report good for an hour and its
    /// state known (a first observation, already journaled): the engine then checks every machine at its next
    /// slot, which spreads the fleet evenly over the interval from the first second, and a check is a
    /// transition only when the machine really changed. Without the known state, every machine's first check
    /// in the window would be a first observation: at 100,000 machines (a 100 s interval) the whole window.
    static func completeCurrentSlots(_ settings: EngineSettings, database: AppDatabase) throws {
        try database.configureMachines(settings.machines.map { ($0.id, $0.name) })
        let now = SystemClock().nowMs()
        let seconds = now / 1000
        let records = settings.machines.map { machine in
            let phase = SlotMath.phase(machineID: machine.id, intervalMs: machine.intervalMs)
            let report = DriftReport(
                id: "drf_probe_\(machine.id)", machineID: machine.id, state: .inSync, etag: "probe",
                createdAt: seconds, startedAt: seconds, expiresAt: seconds + 3_600)
            return CheckRecord(
                machineID: machine.id, checkedAt: now, report: report,
                completedSlot: SlotMath.slotStart(containing: now, intervalMs: machine.intervalMs, phaseMs: phase),
                transition: Transition(
                    machineID: machine.id, machineName: machine.name, previous: .unknown, state: .inSync, cause: .report,
                    report: report, at: now, firstObservation: true))
        }
        try database.markJournaled(try database.record(records).map(\.seq))
        // One transaction of 100,000 rows leaves a WAL of about 75 MB; a daemon's file has none of that.
        try database.checkpointFully()
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        MemoryTrim.configureAllocator(environment: environment)
        LoggingSetup.bootstrap(target: .stderr, level: .notice, environment: environment)
        let logger = Logger(label: "akua-driftd")
        let loaded: LoadedConfig
        switch ConfigLoader.load(path: config, environment: environment) {
        case .success(let value): loaded = value
        case .failure(let error): throw BenchError(error.diagnostics.map(\.description).joined(separator: "\n"))
        }
        let database = try AppDatabase.open(path: loaded.config.state.path)
        let settings = DaemonAssembly.engineSettings(loaded)
        if steady { try Self.completeCurrentSlots(settings, database: database) }
        let clock = SystemClock()
        let windowStart = clock.nowMs() + Int64(warmup * 1000)
        let windowEnd = windowStart + Int64(duration * 1000)
        let samples = Mutex<[Int64]>([])
        samples.withLock { $0.reserveCapacity(Int(duration * 2_000)) }
        // Wired exactly as the daemon is (DaemonAssembly.assemble), with a lag probe on checkStarted.
        let assembled = try DaemonAssembly.assemble(loaded, database: database, environment: environment, logger: logger) { dispatcher in
            EngineCallbacks(
                outbox: { [dispatcher] in dispatcher.wake() },
                checkStarted: { occurrence, started in
                    // Lag from the occurrence's own instant (slot or refresh time), whatever the timer did.
                    guard started >= windowStart, started < windowEnd else { return }
                    samples.withLock { $0.append(started - occurrence) }
                })
        }
        let (client, engine, dispatcher) = (assembled.client, assembled.engine, assembled.dispatcher)
        try engine.start()
        let deliveries = Task { await dispatcher.run() }
        try await Task.sleep(for: .milliseconds(Int((warmup + duration) * 1000)))
        await engine.stop(graceMs: 5_000)
        deliveries.cancel()
        await deliveries.value
        await client.shutdown()

        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        let lags = samples.withLock { $0 }
        let result = Result(
            lagMs: Percentiles(lags.map(Double.init)), checksStarted: lags.count,
            checksPerSecond: Double(lags.count) / duration,
            cpuSeconds: Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: out))
    }
}
