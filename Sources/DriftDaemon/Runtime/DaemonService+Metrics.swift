import DriftConfig
import DriftCore
import DriftMetrics
import DriftWebhooks
import Dispatch
import Foundation
import Synchronization

/// The metrics of one daemon run: created at start when `[metrics] listen` is set (nil otherwise, so a
/// daemon without a listener counts nothing), and the listener serving them.
final class MetricsRuntime: Sendable {
    struct Active: Sendable {
        var metrics: DaemonMetrics
        var settings: MetricsSettings
        var server: MetricsServer?
    }

    let active = Mutex<Active?>(nil)

    var metrics: DaemonMetrics? { active.withLock { $0?.metrics } }

    /// The registry for `settings`, or nil when no listener is configured.
    func prepare(_ settings: MetricsSettings) -> DaemonMetrics? {
        guard settings.listen != nil else { return nil }
        let metrics = DaemonMetrics(perMachine: settings.perMachine)
        active.withLock { $0 = Active(metrics: metrics, settings: settings, server: nil) }
        return metrics
    }
}

extension DaemonService {
    /// Starts the `[metrics]` listener, if configured; throws (the daemon does not start) when it cannot bind.
    func startMetricsListener() async throws {
        guard let active = metricsRuntime.active.withLock({ $0 }), let address = active.settings.listen else { return }
        let handlers = MetricsServer.Handlers(
            scrape: { [weak self] in await self?.metricsScrape() ?? [] },
            ready: { [weak self] in await self?.metricsReadiness() ?? (false, "stopping") })
        let server: MetricsServer
        do {
            server = try await MetricsServer.start(address: address, handlers: handlers, logger: logger)
        } catch {
            throw DaemonError.startup("\(error)")
        }
        metricsRuntime.active.withLock { $0?.server = server }
        logger.notice("serving metrics on \(address) (/metrics, /-/healthy, /-/ready)")
    }

    func stopMetricsListener() async {
        let server = metricsRuntime.active.withLock { active -> MetricsServer? in
            defer { active?.server = nil }
            return active?.server
        }
        await server?.shutdown()
    }

    /// Records a configuration load in `config_last_reload_*`. A changed `[metrics]` section is not applied
    /// by a reload (the listener keeps its address until the next restart); that is logged.
    func noteMetricsReload(errors: [String]) {
        guard let active = metricsRuntime.active.withLock({ $0 }) else { return }
        active.metrics.configLoaded(successful: errors.isEmpty, unixSeconds: Double(clock.nowMs()) / 1000)
        if errors.isEmpty, let loaded = current.withLock({ $0?.loaded }), loaded.config.metrics != active.settings {
            logger.warning("[metrics] changed: it takes effect at the next restart; still serving \(active.settings.listen.map { "\($0)" } ?? "nothing")")
        }
    }

    /// `/metrics`: the scrape-time snapshot (engine counts, one outbox query, the state file's size), off
    /// the cooperative pool since the engine answers on its own queue.
    func metricsScrape() async -> [UInt8] {
        guard let metrics = metricsRuntime.metrics else { return [] }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [weak self] in
                continuation.resume(returning: metrics.scrape(self?.metricsSnapshot(perMachine: metrics.perMachine) ?? MetricsSnapshot()))
            }
        }
    }

    private func metricsSnapshot(perMachine: Bool) -> MetricsSnapshot {
        guard let running = current.withLock({ $0 }) else { return MetricsSnapshot() }
        let fleet = running.engine.metricsFleet(perMachine: perMachine)
        let now = clock.nowMs()
        let pending = Dictionary(((try? running.database.pendingOutbox()) ?? []).map { ($0.webhook, $0) }, uniquingKeysWith: { a, _ in a })
        let disabled = running.dispatcher.disabledEndpointIDs
        let webhooks = running.loaded.config.webhooks.map { settings -> MetricsSnapshot.Webhook in
            let id = WebhookEndpoint.id(forURL: settings.url)
            let queued = pending[id]
            return MetricsSnapshot.Webhook(
                name: settings.name, pending: queued?.count ?? 0,
                oldestPendingSeconds: queued.map { Double(max(0, now - $0.oldestCreatedAt)) / 1000 } ?? 0,
                disabled: disabled.contains(id))
        }
        return MetricsSnapshot(
            summary: fleet.summary, stale: fleet.stale, machineStates: fleet.states, webhooks: webhooks,
            stateFileBytes: running.database.fileBytes())
    }

    /// `/-/ready`: ready once the engine has placed every machine on its schedule (the first round is
    /// scheduled) and while its scheduler keeps up as the watchdog judges it; a queue that does not
    /// answer within a second counts as not keeping up.
    func metricsReadiness() async -> (ready: Bool, reason: String) {
        guard let engine = current.withLock({ $0?.engine }) else { return (false, "not started: the first round of checks is not scheduled yet") }
        let toleranceMs = watchdogToleranceMs
        let answer = await withCheckedContinuation { (continuation: CheckedContinuation<Bool?, Never>) in
            let once = Mutex(Optional(continuation))
            let resume: @Sendable (Bool?) -> Void = { value in once.withLock { $0.take() }?.resume(returning: value) }
            DispatchQueue.global().async { resume(engine.isMakingProgress(toleranceMs: toleranceMs)) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 1) { resume(nil) }
        }
        switch answer {
        case .some(true): return (true, "ready")
        case .some(false): return (false, "the scheduler is not making progress (the watchdog is withheld)")
        case .none: return (false, "the scheduler does not answer (the watchdog is withheld)")
        }
    }

    /// How far behind the scheduler may fall before the watchdog is withheld (the watchdog's own rule;
    /// 5 s without a systemd watchdog).
    var watchdogToleranceMs: Int64 {
        guard let interval = notifier.watchdogInterval() else { return 5_000 }
        let period = interval / 2
        let periodMs = Int64(period.components.seconds * 1000 + period.components.attoseconds / 1_000_000_000_000_000)
        return max(periodMs * 2, 5_000)
    }
}
