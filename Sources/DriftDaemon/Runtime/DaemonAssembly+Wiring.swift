import AkuaAPI
import DriftConfig
import DriftCore
import DriftStore
import DriftWebhooks
import DriftMetrics
import Logging

/// The client, the engine and the webhook dispatcher built from one config, wired together.
public struct AssembledDaemon: Sendable {
    public let client: AkuaClient
    public let engine: DriftEngine
    public let dispatcher: WebhookDispatcher
}

extension DaemonAssembly {
    /// Config → client → engine → dispatcher, in one place for the daemon and the benchmark. `callbacks`
    /// gets the dispatcher it may wake (the daemon instead routes to whichever dispatcher is current).
    public static func assemble(
        _ loaded: LoadedConfig, database: AppDatabase, environment: [String: String], logger: Logger,
        clock: any EngineClock = SystemClock(), dispatcherClock: any EngineClock = SystemClock(),
        metrics: DaemonMetrics? = nil, callbacks: (WebhookDispatcher) -> EngineCallbacks
    ) throws -> AssembledDaemon {
        let client: AkuaClient
        do {
            client = try AkuaClient(configuration: clientConfiguration(loaded, environment: environment), logger: logger,
                onResponse: { metrics?.apiResponse(status: $0) })
        } catch {
            throw DaemonError.startup("[api]: \(error)")
        }
        let dispatcher = self.dispatcher(endpoints: try endpoints(loaded, environment: environment), database: database, logger: logger, clock: dispatcherClock, metrics: metrics)
        let engine = DriftEngine(
            database: database, source: client, settings: engineSettings(loaded), clock: clock, logger: logger,
            callbacks: metrics.map { callbacks(dispatcher).reporting(to: $0) } ?? callbacks(dispatcher))
        return AssembledDaemon(client: client, engine: engine, dispatcher: dispatcher)
    }

    /// The webhook dispatcher for `endpoints` over the state file's outbox.
    public static func dispatcher(
        endpoints: [WebhookEndpoint], database: AppDatabase, logger: Logger, clock: any EngineClock, metrics: DaemonMetrics? = nil
    ) -> WebhookDispatcher {
        WebhookDispatcher(
            endpoints: endpoints, database: database, userAgent: "akua-driftd/\(akuaDriftdVersion)", logger: logger,
            now: { clock.nowMs() }, onOutcome: { metrics?.webhookDelivery(webhook: $0, outcome: $1) })
    }
}
