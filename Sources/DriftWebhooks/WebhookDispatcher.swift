import AkuaAPI
import AsyncHTTPClient
import DriftCore
import DriftStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Delivers the durable outbox to the webhook endpoints: at least once, in order per machine, with
/// backoff and jitter, for up to 24 hours, across restarts. Each endpoint has its own loop and HTTP
/// client, so a slow or dead receiver never delays another one or the checks.
public final class WebhookDispatcher: Sendable {
    public typealias Clock = @Sendable () -> Int64

    let endpoints: [WebhookEndpoint]
    let database: AppDatabase
    let policy: DeliveryPolicy
    let logger: Logger
    let now: Clock
    let concurrency: Int
    let userAgent: String
    private let signals: [String: WakeSignal]
    private let disabled = Mutex<Set<String>>([])

    /// Whether an endpoint answered 410 and is disabled until the next reload.
    public var hasDisabledEndpoints: Bool { !disabled.withLock { $0.isEmpty } }

    public init(
        endpoints: [WebhookEndpoint], database: AppDatabase, policy: DeliveryPolicy = DeliveryPolicy(),
        concurrencyPerEndpoint: Int = 8, userAgent: String, logger: Logger,
        now: @escaping Clock = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.endpoints = endpoints
        self.database = database
        self.policy = policy
        self.logger = logger
        self.now = now
        concurrency = max(1, concurrencyPerEndpoint)
        self.userAgent = userAgent
        signals = Dictionary(uniqueKeysWithValues: endpoints.map { ($0.id, WakeSignal()) })
    }

    /// New events are in the outbox: wake every endpoint loop.
    public func wake() {
        for signal in signals.values { signal.signal() }
    }

    /// Runs every endpoint loop until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for endpoint in endpoints {
                group.addTask { await self.runEndpoint(endpoint) }
            }
        }
    }

    private func runEndpoint(_ endpoint: WebhookEndpoint) async {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(
            connect: .milliseconds(endpoint.timeoutMs), read: .milliseconds(endpoint.timeoutMs))
        configuration.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        await deliverLoop(endpoint, client: client)
        try? await client.shutdown()
    }

    private func deliverLoop(_ endpoint: WebhookEndpoint, client: HTTPClient) async {
        let signal = signals[endpoint.id]!
        var endpointLogger = self.logger
        endpointLogger[metadataKey: "webhook"] = "\(endpoint.label)"
        let logger = endpointLogger
        var jitter = SplitMix64(seed: StableHash.fnv1a64(endpoint.id) ^ UInt64(bitPattern: now()))

        while !Task.isCancelled {
            let due: [DeliveryRecord]
            do {
                due = try database.dueDeliveries(webhook: endpoint.id, now: now(), limit: concurrency)
            } catch {
                logger.error("cannot read the webhook outbox: \(error)")
                await signal.wait(timeoutMs: 5_000)
                continue
            }
            if due.isEmpty {
                let next = (try? database.nextDeliveryTime(webhook: endpoint.id)) ?? nil
                await signal.wait(timeoutMs: next.map { max(0, $0 - now()) })
                continue
            }
            let units = due.map { _ in Double(jitter.next() >> 11) / Double(1 << 53) }
            let outcomes = await withTaskGroup(of: DeliveryDecision.self, returning: [DeliveryDecision].self) { group in
                for (index, delivery) in due.enumerated() {
                    group.addTask {
                        await self.deliver(delivery, to: endpoint, client: client, jitter: units[index], logger: logger)
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            if outcomes.contains(.disableEndpoint) {
                disabled.withLock { _ = $0.insert(endpoint.id) }
                logger.error(
                    "webhook \(endpoint.label) answered 410 Gone: endpoint disabled until the next reload",
                    metadata: ["message_id": "6e37777d1ef344d9a8f6289ce3428eef", "webhook_url_host": "\(WebhookEndpoint.host(of: endpoint.url))", "webhook_status": "410"])
                // Disabled until reload: the dispatcher is replaced on reload, so wait for cancellation.
                while !Task.isCancelled { await signal.wait(timeoutMs: nil) }
                return
            }
        }
    }

    /// One attempt at one delivery; records its outcome in the outbox.
    func deliver(_ delivery: DeliveryRecord, to endpoint: WebhookEndpoint, client: HTTPClient, jitter: Double, logger: Logger) async -> DeliveryDecision {
        let attempt = delivery.attempts + 1
        let sentAt = now()
        let timestamp = sentAt / 1000
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: userAgent)
        request.headers.add(name: "webhook-id", value: delivery.eventID)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: endpoint.signer.signature(id: delivery.eventID, timestamp: timestamp, body: delivery.body))
        request.body = .bytes(ByteBuffer(bytes: delivery.body))

        var status: Int?
        var retryAfterMs: Int64?
        var failure: String
        do {
            let response = try await client.execute(request, timeout: .milliseconds(endpoint.timeoutMs))
            status = Int(response.status.code)
            if let header = response.headers.first(name: "retry-after"), let parsed = RetryAfter.parse(header) {
                retryAfterMs = parsed.delaySeconds(nowUnixSeconds: timestamp).multipliedReportingOverflow(by: 1000).partialValue
            }
            _ = try? await response.body.collect(upTo: 64 * 1024)
            failure = "HTTP \(response.status.code)"
            if let location = response.headers.first(name: "location"), (300..<400).contains(Int(response.status.code)) {
                failure += " redirect to \(location.prefix(120))"
            }
        } catch {
            failure = Self.describe(error)
        }
        let decision = policy.decide(
            status: status, retryAfterMs: retryAfterMs, attempt: attempt, ageMs: sentAt - delivery.createdAt, jitter: jitter)
        do {
            switch decision {
            case .delivered:
                try database.markDelivered(seq: delivery.seq, attempts: attempt, at: now())
                logger.debug("delivered \(delivery.eventID)", metadata: ["drift_event_id": "\(delivery.eventID)", "attempt": "\(attempt)"])
            case .retry(let afterMs):
                try database.scheduleRetry(seq: delivery.seq, attempts: attempt, nextAttemptAt: now() + afterMs, error: failure)
                logger.warning(
                    "webhook delivery of \(delivery.eventID) failed (\(failure)); retry \(attempt) in \(DurationText.format(milliseconds: afterMs))",
                    metadata: ["drift_event_id": "\(delivery.eventID)", "drift_machine_id": "\(delivery.machineID)"])
            case .giveUp(let reason):
                try database.markFailed(seq: delivery.seq, attempts: attempt, at: now(), error: reason)
                logger.error(
                    "webhook delivery of \(delivery.eventID) for machine \(delivery.machineID) failed permanently: \(reason)",
                    metadata: ["message_id": "6e37777d1ef344d9a8f6289ce3428eef", "drift_event_id": "\(delivery.eventID)",
                               "drift_machine_id": "\(delivery.machineID)", "webhook_status": "\(status.map(String.init) ?? "none")",
                               "webhook_url_host": "\(WebhookEndpoint.host(of: endpoint.url))"])
            case .disableEndpoint:
                break
            }
        } catch {
            logger.error("cannot record the outcome of a webhook delivery: \(error)")
        }
        return decision
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timed out" }
            return "connection failed (\(error))"
        }
        return "connection failed (\(String(describing: error).prefix(160)))"
    }
}
