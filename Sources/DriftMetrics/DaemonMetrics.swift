import DriftCore
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics: one swift-prometheus registry (which writes the exposition format),
/// the `akua_driftd_` names, and what the engine, the API client and the webhook dispatcher report.
/// Event metrics are counted as they happen; fleet and outbox gauges are set from a `MetricsSnapshot`
/// taken at scrape time, so nothing is counted per machine between scrapes.
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// `per_machine = true`: the state gauge gets one series per machine.
    public let perMachine: Bool
    private let checkDuration: ValueHistogram
    private let schedulerLag: ValueHistogram
    private let reportTTL: ValueHistogram
    private let retryAfter: Counter
    private let reloadSuccessful: Gauge
    private let reloadTimestamp: Gauge
    private let process = ProcessMetricsCollector()
    /// Labelled gauges set at the previous scrape, so label sets that vanished (a removed webhook, a
    /// machine when `per_machine` is on) are unregistered rather than left at a stale value.
    private let scrapeGauges = Mutex<[String: Gauge]>([:])
    /// Labelled counters made so far, by name and label values: the hot paths (one or two per check) look
    /// them up here instead of asking the registry, which validates and hashes the whole label set each time.
    private let counters = Mutex<[String: Counter]>([:])
    /// One scrape at a time (the scrape-time gauges are shared).
    private let scrapeLock = Mutex(())

    /// Histogram buckets, in seconds.
    public static let checkDurationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    public static let schedulerLagBuckets: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60]
    public static let reportTTLBuckets: [Double] = [60, 300, 900, 1800, 3600, 7200, 21600, 86400, 604800]

    /// `registry` is the caller's (a fresh one per daemon, so tests never share state).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), perMachine: Bool = false,
                version: String = akuaDriftdVersion, revision: String = AkuaDriftdBuild.revision) {
        self.registry = registry
        self.perMachine = perMachine
        checkDuration = registry.makeValueHistogram(descriptor: describe(MetricName.checkDuration, "Duration of one check (the create and, for a 404, the machine lookup), in seconds."), buckets: Self.checkDurationBuckets)
        schedulerLag = registry.makeValueHistogram(descriptor: describe(MetricName.schedulerLag, "How late a check started, measured from its occurrence's own instant, in seconds."), buckets: Self.schedulerLagBuckets)
        reportTTL = registry.makeValueHistogram(descriptor: describe(MetricName.reportTTL, "Lifetime of the reports received (expires_at minus created_at), in seconds."), buckets: Self.reportTTLBuckets)
        retryAfter = registry.makeCounter(descriptor: describe(MetricName.apiRetryAfter, "Sum of the Retry-After delays the API asked for, in seconds."))
        reloadSuccessful = registry.makeGauge(descriptor: describe(MetricName.reloadSuccessful, "1 if the last configuration load (start or reload) succeeded, else 0."))
        reloadTimestamp = registry.makeGauge(descriptor: describe(MetricName.reloadTimestamp, "Unix time of the last configuration load (start or reload) that succeeded."))
        registry.makeGauge(
            descriptor: describe(MetricName.buildInfo, "Always 1; the labels name the running build."),
            labels: [("version", version), ("revision", revision)]).set(to: 1.0)
    }

    // MARK: Events

    /// A check finished with `result` (see `CheckOutcomeLabel`) after `seconds`.
    public func checkFinished(result: String, seconds: Double) {
        counter(MetricName.checks, Help.checks, [("result", result)]).increment()
        checkDuration.record(max(0, seconds))
    }

    /// The API answered with HTTP `status` (nil: no response, e.g. a timeout or a refused connection).
    public func apiResponse(status: Int?) {
        let code = status.map(String.init) ?? "none"
        counter(MetricName.apiRequests, Help.apiRequests, [("code", code)]).increment()
    }

    /// The API asked to wait `seconds` (a `Retry-After` header).
    public func apiRetryAfter(seconds: Int64) {
        if seconds > 0 { retryAfter.increment(by: seconds) }
    }

    /// A check started `seconds` after its occurrence's own instant.
    public func schedulerLag(seconds: Double) {
        schedulerLag.record(max(0, seconds))
    }

    /// A report arrived whose lifetime is `seconds`.
    public func reportTTL(seconds: Double) {
        reportTTL.record(max(0, seconds))
    }

    /// A machine's state changed (recorded in the state file).
    public func transition(from: DriftState, to: DriftState) {
        counter(MetricName.transitions, Help.transitions, [("from", from.rawValue), ("to", to.rawValue)]).increment()
    }

    /// One webhook delivery attempt ended with `outcome` (`delivered`, `retry`, `failed`, `disabled`).
    public func webhookDelivery(webhook: String, outcome: String) {
        counter(MetricName.webhookDeliveries, Help.webhookDeliveries, [("webhook", webhook), ("outcome", outcome)]).increment()
    }

    /// The configuration was loaded (at start or on reload): `successful`, at `unixSeconds` if so.
    public func configLoaded(successful: Bool, unixSeconds: Double) {
        reloadSuccessful.set(to: successful ? 1.0 : 0.0)
        if successful { reloadTimestamp.set(to: unixSeconds) }
    }

    /// The counter `name` with `labels`, made on first use.
    private func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        var key = name
        for (_, value) in labels { key += "\u{1}" + value }
        return counters.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = registry.makeCounter(descriptor: describe(name, help), labels: labels)
            counters[key] = made
            return made
        }
    }

    // MARK: Scrape

    /// Sets the scrape-time gauges from `snapshot` and the process metrics, and returns the Prometheus
    /// text exposition (format 0.0.4).
    public func scrape(_ snapshot: MetricsSnapshot) -> [UInt8] {
        scrapeLock.withLock { _ in
            var seen = Set<String>()
            func gauge(_ name: String, _ labels: [(String, String)], _ help: String, _ value: Double) {
                let key = name + labels.map { "\u{1}\($0.0)=\($0.1)" }.joined()
                seen.insert(key)
                let gauge = scrapeGauges.withLock { gauges in
                    if let existing = gauges[key] { return existing }
                    let made = registry.makeGauge(descriptor: describe(name, help), labels: labels)
                    gauges[key] = made
                    return made
                }
                gauge.set(to: value)
            }
            if let perMachine = snapshot.machineStates, self.perMachine {
                for (id, state) in perMachine {
                    gauge(MetricName.machines, [("state", state.rawValue), ("machine", id)], Help.machines, 1)
                }
            } else {
                gauge(MetricName.machines, [("state", DriftState.inSync.rawValue)], Help.machines, Double(snapshot.summary.inSync))
                gauge(MetricName.machines, [("state", DriftState.drifted.rawValue)], Help.machines, Double(snapshot.summary.drifted))
                gauge(MetricName.machines, [("state", DriftState.unknown.rawValue)], Help.machines, Double(snapshot.summary.unknown))
            }
            gauge(MetricName.machinesFailing, [], Help.machinesFailing, Double(snapshot.summary.failing))
            gauge(MetricName.machinesStale, [], Help.machinesStale, Double(snapshot.stale))
            for webhook in snapshot.webhooks {
                let labels = [("webhook", webhook.name)]
                gauge(MetricName.outboxPending, labels, Help.outboxPending, Double(webhook.pending))
                gauge(MetricName.outboxOldest, labels, Help.outboxOldest, webhook.oldestPendingSeconds)
                gauge(MetricName.endpointDisabled, labels, Help.endpointDisabled, webhook.disabled ? 1 : 0)
            }
            if let bytes = snapshot.stateFileBytes {
                gauge(MetricName.stateFileBytes, [], Help.stateFileBytes, Double(bytes))
            }
            for sample in process.sample() {
                if sample.name == ProcessMetricsCollector.cpuSecondsName {
                    process.advanceCPU(registry: registry, to: sample.value)
                } else {
                    gauge(sample.name, [], sample.help, sample.value)
                }
            }
            // Label sets that are gone since the last scrape.
            let gone: [Gauge] = scrapeGauges.withLock { gauges in
                let keys = gauges.keys.filter { !seen.contains($0) }
                return keys.compactMap { gauges.removeValue(forKey: $0) }
            }
            for gauge in gone { registry.unregisterGauge(gauge) }
            return registry.emitToBuffer()
        }
    }
}

/// The metric names (all `akua_driftd_`, as the README, the alert rules and the dashboard use them).
public enum MetricName {
    public static let prefix = "akua_driftd_"
    public static let machines = prefix + "machines"
    public static let machinesFailing = prefix + "machines_failing"
    public static let machinesStale = prefix + "machines_stale"
    public static let checks = prefix + "checks_total"
    public static let checkDuration = prefix + "check_duration_seconds"
    public static let apiRequests = prefix + "api_requests_total"
    public static let apiRetryAfter = prefix + "api_retry_after_seconds_total"
    public static let schedulerLag = prefix + "scheduler_lag_seconds"
    public static let reportTTL = prefix + "report_ttl_seconds"
    public static let transitions = prefix + "transitions_total"
    public static let webhookDeliveries = prefix + "webhook_deliveries_total"
    public static let outboxPending = prefix + "webhook_outbox_pending"
    public static let outboxOldest = prefix + "webhook_outbox_oldest_pending_seconds"
    public static let endpointDisabled = prefix + "webhook_endpoint_disabled"
    public static let reloadSuccessful = prefix + "config_last_reload_successful"
    public static let reloadTimestamp = prefix + "config_last_reload_timestamp_seconds"
    public static let stateFileBytes = prefix + "state_file_bytes"
    public static let buildInfo = prefix + "build_info"
}

/// A name with its `# HELP` text (no namespace or unit parts: the names above are complete).
func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}

enum Help {
    static let machines = "Watched machines by drift state (with per_machine = true: one series per machine, value 1)."
    static let machinesFailing = "Machines whose last failing_after or more checks failed."
    static let machinesStale = "Machines whose known state rests on a report that expired while nobody watched (downtime, suspend); their catch-up check is pending. status marks them (stale)."
    static let checks = "Finished checks by result: ok, retry (a retryable failure), or the error kind."
    static let apiRequests = "Akua API requests by HTTP status code (none: no response)."
    static let transitions = "Recorded state transitions by previous and new state."
    static let webhookDeliveries = "Webhook delivery attempts by webhook name and outcome (delivered, retry, failed, disabled)."
    static let outboxPending = "Webhook deliveries waiting in the outbox."
    static let outboxOldest = "Age of the oldest pending webhook delivery, in seconds (0 when none)."
    static let endpointDisabled = "1 while the webhook endpoint is disabled (it answered 410 Gone) until the next reload."
    static let stateFileBytes = "Size of the SQLite state file with its write-ahead log, in bytes."
}
