import DriftCore
import DriftStore
import DriftTestSupport
import DriftWebhooks
import Foundation
import Logging
import Testing

/// Writes transitions and their outbox rows the way the engine does (`AppDatabase.record`), so webhook
/// tests control exactly which events are pending.
final class OutboxWriter {
    struct Event {
        var transition: Transition
        var body: [UInt8]
    }

    var database: AppDatabase
    /// Called after each write, like the engine's `onOutbox` (wakes the dispatcher).
    var onRecorded: (() -> Void)?
    private var states: [String: DriftState] = [:]
    private var counter = 0
    private(set) var events: [Event] = []

    init(database: AppDatabase) { self.database = database }

    /// Records the next change of `machineID` (alternating drifted / in_sync) for `webhooks`.
    @discardableResult
    func next(_ machineID: String, webhooks: [String]) throws -> Event {
        counter += 1
        let now = wallMs()
        let current = states[machineID] ?? .inSync
        let reportState: ReportState = current == .drifted ? .inSync : .drifted
        let report = DriftReport(
            id: "drf_outbox_\(counter)", machineID: machineID, state: reportState, etag: "etag\(counter)",
            createdAt: now / 1000, startedAt: now / 1000, expiresAt: now / 1000 + 900,
            delta: reportState == .drifted ? ["image": .object(["desired": .string("v\(counter)"), "actual": .string("v0")])] : nil)
        let transition = try #require(TransitionRules.afterReport(
            machineID: machineID, machineName: "name-\(machineID)", current: current, everObserved: true, report: report, now: now))
        let body = WebhookPayload.body(for: transition)
        try database.record([CheckRecord(
            machineID: machineID, checkedAt: now, report: report, transition: transition,
            outbox: webhooks.map { OutboxItem(webhook: $0, body: body) })])
        states[machineID] = transition.state
        onRecorded?()
        let event = Event(transition: transition, body: body)
        events.append(event)
        return event
    }
}

/// A running `WebhookDispatcher` (its loops run in a task, cancelled by `stop`).
final class RunningDispatcher: Sendable {
    let dispatcher: WebhookDispatcher
    let task: Task<Void, Never>

    init(endpoints: [WebhookEndpoint], database: AppDatabase, policy: DeliveryPolicy, logger: Logger) {
        let dispatcher = WebhookDispatcher(
            endpoints: endpoints, database: database, policy: policy, userAgent: "akua-driftd/reliability-test", logger: logger)
        self.dispatcher = dispatcher
        task = Task { await dispatcher.run() }
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}

enum WebhookChecks {
    static let secret = "whsec_" + Data("reliability-webhook-secret-0123456789".utf8).base64EncodedString()

    static func endpoint(_ url: String, name: String, timeoutMs: Int64 = 500) throws -> WebhookEndpoint {
        WebhookEndpoint(url: url, name: name, signer: try WebhookSigner(secret: secret), events: Set(DriftState.allCases), timeoutMs: timeoutMs)
    }

    /// Every event arrived (at least once) exactly as first signed: same id, same body, a valid
    /// signature; and the first arrival of each machine's events is in the order they were recorded.
    static func verifyDelivered(_ events: [OutboxWriter.Event], at receiver: TestWebhookReceiver, _ label: String) {
        let deliveries = receiver.deliveries
        #expect(deliveries.allSatisfy { $0.signatureValid }, "\(label): a delivery had an invalid signature")
        #expect(deliveries.allSatisfy { $0.id == $0.eventID }, "\(label): webhook-id must be the event id")
        let expected = Dictionary(uniqueKeysWithValues: events.map { ($0.transition.eventID, $0.body) })
        for event in events {
            #expect(deliveries.contains { $0.id == event.transition.eventID }, "\(label): \(event.transition.eventID) never arrived")
        }
        let transitions = Dictionary(uniqueKeysWithValues: events.map { ($0.transition.eventID, $0.transition) })
        for attempt in receiver.attempts {
            #expect(expected[attempt.webhookID] == attempt.body, "\(label): \(attempt.webhookID) was sent with a different body")
            if let transition = transitions[attempt.webhookID] {
                let problems = TransitionOracle.payloadProblems(attempt.body, transition)
                #expect(problems.isEmpty, "\(label): \(problems.joined(separator: "; "))")
            }
        }
        // Invalid signatures (by the independent HMAC too) or bodies outside the JSON Schema.
        receiver.recordProblems()
        for machine in Set(events.map(\.transition.machineID)) {
            let order = events.filter { $0.transition.machineID == machine }.map(\.transition.eventID)
            var seen: [String] = []
            for delivery in deliveries where delivery.machineID == machine && !seen.contains(delivery.id) { seen.append(delivery.id) }
            #expect(seen == order, "\(label): deliveries for \(machine) out of order")
        }
    }

    /// The most attempts the backoff allows within `windowMs` (each retry at its smallest delay).
    static func maxAttempts(within windowMs: Int64, policy: DeliveryPolicy) -> Int {
        var elapsed: Int64 = 0
        var attempts = 1
        while true {
            elapsed += policy.backoff.delay(attempt: attempts, jitter: 0)
            if elapsed > windowMs { return attempts }
            attempts += 1
        }
    }
}
