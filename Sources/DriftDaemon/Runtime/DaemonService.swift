import AkuaAPI
import DriftConfig
import DriftCore
import DriftStore
import DriftSystemd
import DriftWebhooks
import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `akua-driftd run`: the engine, the webhook dispatcher, sd_notify (READY, STATUS, WATCHDOG, RELOADING,
/// STOPPING) and SIGHUP reloads, as one `Service` that stops in order: checks first, deliveries next.
public final class DaemonService: Service, Sendable {
    let configPath: String
    let environment: [String: String]
    let logger: Logger
    let notifier: SystemdNotifier
    let clock: any EngineClock
    /// `clock`, or the test-only stall hook around it (`AKUA_DRIFTD_TEST_STALL_FILE`, see `SchedulerStallHook`).
    let engineClock: any EngineClock
    let current: Mutex<Running?> = Mutex(nil)
    /// `[metrics]`: the registry and the listener, when configured (see `DaemonService+Metrics`).
    let metricsRuntime = MetricsRuntime()
    /// `--log-level` given on the command line wins over `[log] level`.
    let logLevelOverride: Logger.Level?
    /// Number of the latest reload (0 until the first SIGHUP), for `akua-driftd reload`.
    let reloadGeneration = Atomic<Int64>(0)
    /// `$RUNTIME_DIRECTORY`: status snapshot and reload outcome (nil outside systemd unless set).
    let runtimeFiles: RuntimeFiles?
    /// Writes the status snapshot and prunes the state file in the background.
    let maintenance: Mutex<MaintenanceTimer?> = Mutex(nil)

    struct Running: Sendable {
        var loaded: LoadedConfig
        var engine: DriftEngine
        var client: AkuaClient
        var dispatcher: WebhookDispatcher
        var dispatcherTask: Task<Void, Never>
        var database: AppDatabase
        var lock: StateLock
    }

    public init(configPath: String, environment: [String: String], logger: Logger,
                notifier: SystemdNotifier = SystemdNotifier(), clock: any EngineClock = SystemClock(),
                logLevelOverride: Logger.Level? = nil) {
        self.logLevelOverride = logLevelOverride
        runtimeFiles = RuntimeFiles.fromEnvironment(environment)
        self.configPath = configPath
        self.environment = environment
        self.logger = logger
        self.notifier = notifier
        self.clock = clock
        engineClock = SchedulerStallHook.engineClock(clock, environment: environment, notifier: notifier)
    }

    /// Loads the config, opens the state file and starts everything; throws `DaemonError` with a clear
    /// message when it cannot (the caller exits non-zero, systemd shows the message). `run()` then sends
    /// READY=1.
    public func start() throws {
        let loaded: LoadedConfig
        switch ConfigLoader.load(path: configPath, environment: environment) {
        case .success(let value): loaded = value
        case .failure(let error): throw DaemonError.config(error.diagnostics.map(\.description))
        }
        applyLogLevel(loaded.config)
        for warning in loaded.warnings { logger.warning("\(warning.description)") }
        let statePath = loaded.config.state.path
        let lock: StateLock
        let database: AppDatabase
        do {
            lock = try StateLock(statePath: statePath)
            database = try AppDatabase.open(path: statePath)
        } catch {
            throw DaemonError.startup(error.description)
        }
        if let path = environment[SchedulerStallHook.environmentVariable], !path.isEmpty {
            logger.warning("test hook \(SchedulerStallHook.environmentVariable) is set: the scheduler stalls while \(path) exists")
        }
        let notifier = self.notifier
        // The engine's callbacks are fixed here; the outbox one finds whichever dispatcher is current, so a
        // reload that replaces the dispatcher never races the engine queue.
        let assembled = try DaemonAssembly.assemble(
            loaded, database: database, environment: environment, logger: logger, clock: engineClock, dispatcherClock: clock,
            metrics: metricsRuntime.prepare(loaded.config.metrics)
        ) { _ in
            EngineCallbacks(
                outbox: { [weak self] in self?.current.withLock { $0?.dispatcher }?.wake() },
                status: { summary, next in _ = notifier.status(summary.statusLine(nextCheckInMs: next)) })
        }
        let (client, engine, dispatcher) = (assembled.client, assembled.engine, assembled.dispatcher)
        do {
            try engine.start()
        } catch {
            throw DaemonError.startup("\(statePath): \(error)")
        }
        let task = Task { await dispatcher.run() }
        current.withLock {
            $0 = Running(loaded: loaded, engine: engine, client: client, dispatcher: dispatcher, dispatcherTask: task, database: database, lock: lock)
        }
        writeReloadOutcome(ReloadOutcome(generation: 0, accepted: true, at: clock.nowMs(), errors: []))
        startMaintenance()
        // "started:" and READY=1 come from `run()`, once the signals are trapped: systemd may send a reload
        // as soon as it sees READY, and a stop request before then would end the process by its default action.
    }

    private func makeDispatcher(endpoints: [WebhookEndpoint], database: AppDatabase) -> WebhookDispatcher {
        DaemonAssembly.dispatcher(endpoints: endpoints, database: database, logger: logger, clock: clock, metrics: metricsRuntime.metrics)
    }

    public func run() async throws {
        if current.withLock({ $0 == nil }) { try start() }
        noteMetricsReload(errors: [])
        try await startMetricsListener()
        // Trap SIGHUP before READY=1 (a reload requested right after it is buffered, not lost), then
        // reload on each one until a graceful shutdown (SIGTERM/SIGINT) is requested. SIGUSR1 (from
        // `akua-driftd silence`) re-reads the silences; the pid is published for it only once trapped.
        let reloads = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        publishSignalPID()
        if let running = current.withLock({ $0 }) {
            let (summary, next) = running.engine.currentSummary()
            logger.notice("akua-driftd \(akuaDriftdVersion) started: \(summary.statusLine(nextCheckInMs: next)); state \(running.loaded.config.state.path); api \(running.loaded.config.api.baseURL)")
            _ = notifier.ready(status: summary.statusLine(nextCheckInMs: next))
        }
        let watchdog = startWatchdog()
        defer { watchdog?.cancel() }
        for await signal in reloads.cancelOnGracefulShutdown() {
            if signal == .sigusr1 { await refreshSilences() } else { await reload() }
        }
        // systemd stops watching once it asked us to stop; a stopped engine makes no progress by design, so
        // pinging (or logging that we do not) during the grace would only be noise.
        watchdog?.cancel()
        await shutdown()
    }

    /// Re-reads the config. An invalid one is rejected with its `FILE:LINE: key:` errors and the running
    /// config stays; a valid one is applied without losing state or re-checking unchanged machines.
    /// Either way the reload is framed by `RELOADING=1` (with `MONOTONIC_USEC=`) and `READY=1`, as
    /// `Type=notify-reload` (systemd >= 253) expects for every SIGHUP.
    public func reload() async {
        guard current.withLock({ $0 }) != nil else { return }
        let errors = await applyReload()
        recordReload(errors: errors)
        noteMetricsReload(errors: errors)
    }

    /// The reload itself: the rejected config's errors, or none once the new config is in effect.
    private func applyReload() async -> [String] {
        guard let running = current.withLock({ $0 }) else { return [] }
        _ = notifier.reloading(status: "reloading \(configPath)")
        let loaded: LoadedConfig
        switch ConfigLoader.load(path: configPath, environment: environment) {
        case .failure(let error):
            let lines = error.diagnostics.map(\.description)
            logger.error(
                "reload rejected, the running config stays in effect:\n\(lines.joined(separator: "\n"))",
                metadata: ["message_id": "\(JournalMessageID.configRejected)", "config_errors": "\(lines.count)"])
            _ = notifier.ready(status: running.engine.currentSummary().0.statusLine(nextCheckInMs: nil))
            return lines
        case .success(let value):
            loaded = value
        }
        for warning in loaded.warnings { logger.warning("\(warning.description)") }
        if loaded.config.state.path != running.loaded.config.state.path {
            logger.warning("[state] path changed; a restart is needed to move to \(loaded.config.state.path), continuing with \(running.database.path)")
        }
        var next = running
        next.loaded = loaded
        var newSource: AkuaClient?
        if loaded.config.api != running.loaded.config.api || loaded.token != running.loaded.token {
            do {
                let metrics = metricsRuntime.metrics
                newSource = try AkuaClient(
                    configuration: DaemonAssembly.clientConfiguration(loaded, environment: environment), logger: logger,
                    onResponse: { metrics?.apiResponse(status: $0) })
            } catch {
                logger.error("reload rejected: [api]: \(error)", metadata: ["message_id": "\(JournalMessageID.configRejected)"])
                _ = notifier.ready(status: running.engine.currentSummary().0.statusLine(nextCheckInMs: nil))
                return ["\(configPath): [api]: \(error)"]
            }
        }
        let endpoints: [WebhookEndpoint]
        do {
            endpoints = try DaemonAssembly.endpoints(loaded, environment: environment)
        } catch {
            logger.error("reload rejected: \(error)", metadata: ["message_id": "\(JournalMessageID.configRejected)"])
            _ = notifier.ready(status: running.engine.currentSummary().0.statusLine(nextCheckInMs: nil))
            return ["\(configPath): \(error)"]
        }
        do {
            try running.engine.reload(settings: DaemonAssembly.engineSettings(loaded), source: newSource)
        } catch {
            logger.error("reload failed to update the state file: \(error)")
        }
        if let newSource {
            next.client = newSource
            let old = running.client
            Task { try? await Task.sleep(for: .seconds(60)); await old.shutdown() }  // let running checks finish
        }
        // Webhooks: a fresh dispatcher picks up new endpoints and secrets and re-enables endpoints a 410
        // disabled. The old one finishes first, so a machine's deliveries never overlap or reorder.
        if loaded.config.webhooks != running.loaded.config.webhooks || loaded.webhookSecrets != running.loaded.webhookSecrets
            || loaded.routingKeys != running.loaded.routingKeys
            || loaded.additionalWebhookSecrets != running.loaded.additionalWebhookSecrets
            || loaded.webhookURLs != running.loaded.webhookURLs
            || running.dispatcher.hasDisabledEndpoints {
            running.dispatcherTask.cancel()
            await running.dispatcherTask.value
            let dispatcher = makeDispatcher(endpoints: endpoints, database: running.database)
            next.dispatcher = dispatcher
            next.dispatcherTask = Task { await dispatcher.run() }
        }
        current.withLock { $0 = next }
        applyLogLevel(loaded.config)
        let (summary, nextDue) = running.engine.currentSummary()
        logger.notice("reloaded \(configPath): \(summary.statusLine(nextCheckInMs: nextDue))")
        _ = notifier.ready(status: summary.statusLine(nextCheckInMs: nextDue))
        return []
    }

    private func shutdown() async {
        guard let running = current.withLock({ $0 }) else { return }
        withdrawSignalPID()
        stopMaintenance()
        _ = notifier.stopping(status: "stopping: finishing running checks")
        logger.notice("stopping: finishing running checks (at most 5s)")
        await running.engine.stop(graceMs: 5_000)
        running.dispatcherTask.cancel()
        await running.dispatcherTask.value
        await running.client.shutdown()
        current.withLock { $0 = nil }
        await stopMetricsListener()
        logger.notice("stopped")
    }

    /// Feeds the systemd watchdog every half `WATCHDOG_USEC`, but only while the scheduler keeps up.
    private func startWatchdog() -> (any DispatchSourceTimer)? {
        guard let interval = notifier.watchdogInterval() else { return nil }
        let period = interval / 2
        let periodMs = Int64(period.components.seconds * 1000 + period.components.attoseconds / 1_000_000_000_000_000)
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let notifier = self.notifier
        let logger = self.logger
        timer.schedule(deadline: .now(), repeating: .milliseconds(Int(max(periodMs, 100))), leeway: .milliseconds(Int(max(periodMs / 10, 10))))
        timer.setEventHandler { [weak self] in
            guard let engine = self?.current.withLock({ $0?.engine }) else { return }
            if engine.isMakingProgress(toleranceMs: max(periodMs * 2, 5_000)) {
                _ = notifier.watchdogPing()
            } else {
                logger.error("scheduler is not making progress; withholding the watchdog ping")
            }
        }
        timer.activate()
        return timer
    }
}
