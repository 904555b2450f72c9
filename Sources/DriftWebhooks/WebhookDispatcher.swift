import AsyncHTTPClient
import DriftCore
import DriftStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOHTTP1
import Synchronization

/// Delivers the durable outbox to the webhook endpoints: at least once, in order per machine, with
/// backoff and jitter, for up to 24 hours, across restarts. Each endpoint has its own loop and HTTP
/// client, so a slow or dead receiver never delays another one or the checks.
public final class WebhookDispatcher: Sendable {
    public typealias Clock = @Sendable () -> Int64

    /// One loop per distinct endpoint id, with the signal that wakes it.
    private let loops: [(endpoint: WebhookEndpoint, signal: WakeSignal)]
    let outbox: any WebhookOutbox
    let policy: DeliveryPolicy
    let logger: Logger
    let clock: any DispatcherClock
    let concurrency: Int
    let userAgent: String
    private let disabled = Mutex<Set<String>>([])
    /// Told each attempt's outcome (`delivered`, `retry`, `failed`, `disabled`) with the endpoint's label.
    let onOutcome: @Sendable (_ webhook: String, _ outcome: String) -> Void

    var endpoints: [WebhookEndpoint] { loops.map(\.endpoint) }
    func now() -> Int64 { clock.nowMs() }

    /// Whether an endpoint answered 410 and is disabled until the next reload.
    public var hasDisabledEndpoints: Bool { !disabled.withLock { $0.isEmpty } }
    /// Outbox ids of the endpoints a 410 disabled (for `status`).
    public var disabledEndpointIDs: Set<String> { disabled.withLock { $0 } }

    public convenience init(
        endpoints: [WebhookEndpoint], database: AppDatabase, policy: DeliveryPolicy = DeliveryPolicy(),
        concurrencyPerEndpoint: Int = 8, userAgent: String, logger: Logger,
        now: @escaping Clock = { Int64(Date().timeIntervalSince1970 * 1000) },
        onOutcome: @escaping @Sendable (_ webhook: String, _ outcome: String) -> Void = { _, _ in }
    ) {
        self.init(
            endpoints: endpoints, outbox: database, policy: policy, concurrencyPerEndpoint: concurrencyPerEndpoint,
            userAgent: userAgent, logger: logger, clock: SystemDispatcherClock(now: now), onOutcome: onOutcome)
    }

    /// `clock` gives the time and does the waiting (a manual clock in tests). Endpoints with the same id
    /// (the same URL) share one outbox queue, so only the first of them is used; config validation
    /// rejects such configs, this only keeps the dispatcher from ever trapping on one.
    public init(
        endpoints: [WebhookEndpoint], outbox: any WebhookOutbox, policy: DeliveryPolicy = DeliveryPolicy(),
        concurrencyPerEndpoint: Int = 8, userAgent: String, logger: Logger, clock: any DispatcherClock,
        onOutcome: @escaping @Sendable (_ webhook: String, _ outcome: String) -> Void = { _, _ in }
    ) {
        self.onOutcome = onOutcome
        var seen = Set<String>()
        var loops: [(endpoint: WebhookEndpoint, signal: WakeSignal)] = []
        for endpoint in endpoints {
            if seen.insert(endpoint.id).inserted {
                loops.append((endpoint, WakeSignal()))
            } else {
                logger.error("webhook \(endpoint.label) has the same URL as another webhook; it is ignored")
            }
        }
        self.loops = loops
        self.outbox = outbox
        self.policy = policy
        self.logger = logger
        self.clock = clock
        concurrency = max(1, concurrencyPerEndpoint)
        self.userAgent = userAgent
    }

    /// New events are in the outbox: wake every endpoint loop.
    public func wake() {
        for loop in loops { loop.signal.signal() }
    }

    /// Runs every endpoint loop until the task is cancelled. The deliveries have an event loop of their
    /// own, so a webhook is not queued behind a burst of check responses on the API client's loops.
    public func run() async {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        await withTaskGroup(of: Void.self) { tasks in
            for loop in loops {
                tasks.addTask { await self.runEndpoint(loop.endpoint, signal: loop.signal, eventLoops: group) }
            }
        }
        try? await group.shutdownGracefully()
    }

    private func runEndpoint(_ endpoint: WebhookEndpoint, signal: WakeSignal, eventLoops: any EventLoopGroup) async {
        let configuration = WebhookRequest.clientConfiguration(for: endpoint)
        if let proxy = endpoint.proxy {
            // The description never includes the proxy's credentials.
            logger.debug("webhook \(endpoint.label) delivers through proxy \(proxy)")
        }
        let client = HTTPClient(eventLoopGroupProvider: .shared(eventLoops), configuration: configuration)
        await deliverLoop(endpoint, signal: signal, client: client)
        try? await client.shutdown()
    }

    /// Keeps up to `concurrency` deliveries of `endpoint` in flight: a new one starts as soon as one ends or
    /// an event arrives, so an event never waits for the slowest delivery of a batch. A machine's next event
    /// is not due before its oldest one has ended (`dueDeliveries` returns only each machine's oldest).
    private func deliverLoop(_ endpoint: WebhookEndpoint, signal: WakeSignal, client: HTTPClient) async {
        var endpointLogger = self.logger
        endpointLogger[metadataKey: "webhook"] = "\(endpoint.label)"
        let logger = endpointLogger
        var jitter = SplitMix64(seed: StableHash.fnv1a64(endpoint.id) ^ UInt64(bitPattern: now()))
        // Consecutive failures to read the outbox or write an outcome. Such a failure leaves deliveries due,
        // so the loop drains what is in flight and backs off (delivery backoff policy) instead of re-sending
        // at once: at most one attempt per event per backoff step.
        var storeFailures = 0
        // Attempts that ended and are not looked at yet; each one signals `signal` when it ends.
        let ended = EndedAttempts()
        var inFlight = Set<Int64>()
        // What ended attempts asked for and the loop has not acted on yet: kept across a drain, so a 410 or
        // an unwritten outcome seen while draining for another failure is still acted on.
        var disable = false
        var unrecorded: Attempt?

        await withDiscardingTaskGroup { group in
            /// Takes the attempts that ended: reports them and notes a 410 or an unwritten outcome.
            /// Outcomes all written end a failure streak.
            func collect() {
                let attempts = ended.take()
                var allRecorded = true
                for attempt in attempts {
                    inFlight.remove(attempt.seq)
                    onOutcome(endpoint.label, attempt.decision.outcomeLabel)
                    if attempt.decision == .disableEndpoint { disable = true }
                    if !attempt.recorded {
                        allRecorded = false
                        if unrecorded == nil { unrecorded = attempt }
                    }
                }
                if !attempts.isEmpty, allRecorded { storeFailures = 0 }
            }
            /// Waits for every delivery in flight to end (cancellation ends them too). Ends signal `signal`,
            /// which is no wait for a time, so it bypasses `clock`.
            func drain() async {
                collect()
                while !inFlight.isEmpty {
                    await signal.wait(timeoutMs: nil)
                    collect()
                }
            }

            while !Task.isCancelled {
                collect()
                // Nothing new starts after a 410 or an unwritten outcome; the deliveries in flight end first.
                if disable || unrecorded != nil { await drain() }
                if disable {
                    disabled.withLock { _ = $0.insert(endpoint.id) }
                    logger.error(
                        "webhook \(endpoint.label) answered 410 Gone: endpoint disabled until the next reload",
                        metadata: ["message_id": "\(JournalMessageID.webhookFailed)", "webhook_url_host": "\(WebhookEndpoint.host(of: endpoint.url))", "webhook_status": "410"])
                    // Disabled until reload: the dispatcher is replaced on reload, so wait for cancellation.
                    while !Task.isCancelled { await clock.wait(untilMs: nil, signal: signal) }
                    return
                }
                if let failure = unrecorded {
                    unrecorded = nil
                    storeFailures += 1
                    await backOff(
                        storeFailures, jitter: &jitter, signal: signal, logger: logger,
                        "cannot record the outcome of webhook delivery \(failure.eventID): \(failure.storeError ?? "")")
                    continue
                }

                // One instant for both queries: every event due by `current` is started (or the window is full),
                // so the wait below looks only at later ones.
                let current = now()
                if inFlight.count < concurrency {
                    let due: [DeliveryRecord]
                    do {
                        // The rows in flight are still pending, so they come back too: ask for that many more.
                        due = try outbox.dueDeliveries(webhook: endpoint.id, now: current, limit: concurrency + inFlight.count)
                    } catch {
                        // What the drained deliveries asked for is acted on after the pause.
                        await drain()
                        storeFailures += 1
                        await backOff(storeFailures, jitter: &jitter, signal: signal, logger: logger, "cannot read the webhook outbox: \(error)")
                        continue
                    }
                    for delivery in due where inFlight.count < concurrency && !inFlight.contains(delivery.seq) {
                        inFlight.insert(delivery.seq)
                        let unit = Double(jitter.next() >> 11) / Double(1 << 53)
                        group.addTask {
                            let attempt = await self.deliver(delivery, to: endpoint, client: client, jitter: unit, logger: logger)
                            ended.append(attempt)
                            signal.signal()
                        }
                    }
                }

                if inFlight.count >= concurrency {
                    // A free slot comes with the end of a delivery, which signals.
                    await signal.wait(timeoutMs: nil)
                } else {
                    // Every due event is in flight: wait for the next one to come due, a new event, or an end.
                    let next = (try? outbox.nextDeliveryTime(webhook: endpoint.id, after: current)) ?? nil
                    if inFlight.isEmpty || next != nil {
                        await clock.wait(untilMs: next, signal: signal)
                    } else {
                        // Only an end or a new event can come: no time to wait for.
                        await signal.wait(timeoutMs: nil)
                    }
                }
            }
        }
    }

    /// Waits the delivery policy's backoff for the `streak`-th consecutive outbox failure; new events
    /// (`wake()`) do not cut it short, cancellation does.
    private func backOff(
        _ streak: Int, jitter: inout SplitMix64, signal: WakeSignal, logger: Logger, _ problem: String
    ) async {
        let delay = policy.backoff.delay(attempt: streak, jitter: Double(jitter.next() >> 11) / Double(1 << 53))
        let start = now()
        let (until, overflow) = start.addingReportingOverflow(delay)
        let deadline = overflow ? Int64.max : until
        logger.error("\(problem); webhook deliveries pause for \(DurationText.format(milliseconds: delay))")
        while !Task.isCancelled {
            let current = now()
            // A clock that went backwards must not stretch the pause beyond `delay`.
            if current >= deadline || current < start { return }
            await clock.wait(untilMs: deadline, signal: signal)
        }
    }

    /// Attempts handed from the delivery tasks to their endpoint's loop.
    final class EndedAttempts: Sendable {
        private let attempts = Mutex<[Attempt]>([])
        func append(_ attempt: Attempt) { attempts.withLock { $0.append(attempt) } }
        func take() -> [Attempt] { attempts.withLock { list in defer { list = [] }; return list } }
    }

    /// What one attempt did: the policy's decision and whether it reached the outbox.
    struct Attempt: Sendable {
        var seq: Int64
        var eventID: String
        var decision: DeliveryDecision
        var recorded: Bool
        var storeError: String?
    }

    /// One attempt at one delivery; records its outcome in the outbox.
    func deliver(_ delivery: DeliveryRecord, to endpoint: WebhookEndpoint, client: HTTPClient, jitter: Double, logger: Logger) async -> Attempt {
        let attempt = delivery.attempts + 1
        let sentAt = now()
        let timestamp = sentAt / 1000
        let request: HTTPClientRequest
        do {
            request = try WebhookRequest.make(
                endpoint: endpoint, eventID: delivery.eventID, body: delivery.body, timestamp: timestamp, userAgent: userAgent)
        } catch {
            return record(.giveUp(reason: "cannot render the event for a \(endpoint.format.rawValue) receiver: \(error)"),
                          delivery: delivery, endpoint: endpoint, attempt: attempt, status: nil, failure: "\(error)", logger: logger)
        }

        var status: Int?
        var retryAfterMs: Int64?
        var failure: String
        do {
            let response = try await client.execute(request, timeout: .milliseconds(endpoint.timeoutMs))
            status = Int(response.status.code)
            if let header = response.headers.first(name: "retry-after"), let parsed = RetryAfter.parse(header) {
                let (ms, overflow) = parsed.delaySeconds(nowUnixSeconds: timestamp).multipliedReportingOverflow(by: 1000)
                retryAfterMs = overflow ? Int64.max : ms
            }
            _ = try? await response.body.collect(upTo: 64 * 1024)
            failure = "HTTP \(response.status.code)"
            if let location = response.headers.first(name: "location"), (300..<400).contains(Int(response.status.code)) {
                failure += " redirect to \(location.prefix(120))"
            }
        } catch {
            failure = Self.describe(error)
        }
        let (age, ageOverflow) = sentAt.subtractingReportingOverflow(delivery.createdAt)
        let decision = policy.decide(
            status: status, retryAfterMs: retryAfterMs, attempt: attempt,
            ageMs: ageOverflow ? (sentAt > delivery.createdAt ? Int64.max : 0) : age, jitter: jitter)
        return record(decision, delivery: delivery, endpoint: endpoint, attempt: attempt, status: status, failure: failure, logger: logger)
    }

    /// Records the outcome of one attempt in the outbox and logs it.
    private func record(
        _ decision: DeliveryDecision, delivery: DeliveryRecord, endpoint: WebhookEndpoint, attempt: Int, status: Int?,
        failure: String, logger: Logger
    ) -> Attempt {
        do {
            switch decision {
            case .delivered:
                try outbox.markDelivered(seq: delivery.seq, attempts: attempt, at: now())
                logger.debug("delivered \(delivery.eventID)", metadata: ["drift_event_id": "\(delivery.eventID)", "attempt": "\(attempt)"])
            case .retry(let afterMs):
                let (next, overflow) = now().addingReportingOverflow(afterMs)
                try outbox.scheduleRetry(seq: delivery.seq, attempts: attempt, nextAttemptAt: overflow ? Int64.max : next, error: failure)
                logger.warning(
                    "webhook delivery of \(delivery.eventID) failed (\(failure)); retry \(attempt) in \(DurationText.format(milliseconds: afterMs))",
                    metadata: ["drift_event_id": "\(delivery.eventID)", "drift_machine_id": "\(delivery.machineID)"])
            case .giveUp(let reason):
                try outbox.markFailed(seq: delivery.seq, attempts: attempt, at: now(), error: reason)
                logger.error(
                    "webhook delivery of \(delivery.eventID) for machine \(delivery.machineID) failed permanently: \(reason)",
                    metadata: ["message_id": "\(JournalMessageID.webhookFailed)", "drift_event_id": "\(delivery.eventID)",
                               "drift_machine_id": "\(delivery.machineID)", "webhook_status": "\(status.map(String.init) ?? "none")",
                               "webhook_url_host": "\(WebhookEndpoint.host(of: endpoint.url))"])
            case .disableEndpoint:
                break
            }
        } catch {
            return Attempt(seq: delivery.seq, eventID: delivery.eventID, decision: decision, recorded: false, storeError: "\(error)")
        }
        return Attempt(seq: delivery.seq, eventID: delivery.eventID, decision: decision, recorded: true)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timed out" }
            return "connection failed (\(error))"
        }
        return "connection failed (\(String(describing: error).prefix(160)))"
    }
}

extension DeliveryDecision {
    /// The `outcome` label of `akua_driftd_webhook_deliveries_total`.
    var outcomeLabel: String {
        switch self {
        case .delivered: "delivered"
        case .retry: "retry"
        case .giveUp: "failed"
        case .disableEndpoint: "disabled"
        }
    }
}
