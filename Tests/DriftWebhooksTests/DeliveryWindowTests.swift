import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import Synchronization
import Testing
import WebhookReceiver

@testable import DriftWebhooks

/// Issue 14: the dispatcher keeps a window of deliveries in flight per endpoint instead of rounds that wait
/// for their slowest delivery, without giving up the order of one machine's events. A receiver holds the
/// requests of chosen machines until the test lets them go, so "in flight" is a fact, not a timing.
@Suite("Webhook delivery window")
struct DeliveryWindowTests {
    /// Events are recorded at `start` to `start + 3`; the dispatcher's clock stands at `start + 10`, so all are due.
    static let start: Int64 = 1_800_000_000_000

    @Test("an event is delivered while another machine's delivery is still waiting for its receiver")
    func slowDeliveryDoesNotHoldBackOthers() async throws {
        let directory = try TemporaryDirectory("akua-webhooks-window")
        let receiver = try await HoldingReceiver.start(holding: ["mch_slow"])
        let endpoint = Self.endpoint(receiver.url)
        let database = try AppDatabase.open(path: directory.file("state.sqlite"))
        try recordTransition(in: database, webhook: endpoint.id, machineID: "mch_slow", atMs: Self.start)
        let dispatcher = WebhookDispatcher(
            endpoints: [endpoint], outbox: database, userAgent: "test", logger: LogCapture().logger(),
            clock: ManualDispatcherClock(startMs: Self.start + 10))
        let task = Task { await dispatcher.run() }

        try await eventually(timeout: .seconds(20), "mch_slow's delivery reaches the receiver") { receiver.arrived("mch_slow") == 1 }
        try recordTransition(in: database, webhook: endpoint.id, machineID: "mch_fast", atMs: Self.start + 1)
        dispatcher.wake()
        // Rounds would send mch_fast only after mch_slow's answer, which the receiver holds back.
        try await eventually(timeout: .seconds(20), "mch_fast is delivered while mch_slow is held") {
            try Self.pending(database, endpoint) == ["mch_slow"]
        }
        #expect(receiver.arrived("mch_fast") == 1)

        receiver.release("mch_slow")
        try await eventually(timeout: .seconds(20), "mch_slow is delivered once answered") { try Self.pending(database, endpoint).isEmpty }
        #expect(receiver.arrived("mch_slow") == 1, "one delivery per event")
        task.cancel()
        await task.value
        await receiver.shutdown()
    }

    @Test("a machine's second event waits for its first, and no more than the window is in flight")
    func orderAndLimit() async throws {
        let directory = try TemporaryDirectory("akua-webhooks-window-order")
        let held = ["mch_a", "mch_b", "mch_c"]
        let receiver = try await HoldingReceiver.start(holding: Set(held))
        let endpoint = Self.endpoint(receiver.url)
        let database = try AppDatabase.open(path: directory.file("state.sqlite"))
        // mch_a has two events; the window holds two deliveries.
        try recordTransition(in: database, webhook: endpoint.id, machineID: "mch_a", atMs: Self.start)
        try recordTransition(in: database, webhook: endpoint.id, machineID: "mch_a", atMs: Self.start + 1)
        try recordTransition(in: database, webhook: endpoint.id, machineID: "mch_b", atMs: Self.start + 2)
        try recordTransition(in: database, webhook: endpoint.id, machineID: "mch_c", atMs: Self.start + 3)
        let dispatcher = WebhookDispatcher(
            endpoints: [endpoint], outbox: database, concurrencyPerEndpoint: 2, userAgent: "test",
            logger: LogCapture().logger(), clock: ManualDispatcherClock(startMs: Self.start + 10))
        let task = Task { await dispatcher.run() }

        try await eventually(timeout: .seconds(20), "the window fills") { receiver.total == 2 }
        #expect(receiver.arrived("mch_a") == 1 && receiver.arrived("mch_b") == 1, "oldest first")
        // mch_b ends: the free slot goes to mch_c, not to mch_a's second event (its first is in flight).
        receiver.release("mch_b")
        try await eventually(timeout: .seconds(20), "mch_c takes the free slot") { receiver.arrived("mch_c") == 1 }
        #expect(receiver.arrived("mch_a") == 1)
        #expect(receiver.total == 3, "two held deliveries fill the window")

        receiver.release("mch_a")
        try await eventually(timeout: .seconds(20), "mch_a's second event follows its first") { receiver.arrived("mch_a") == 2 }
        receiver.release("mch_c")
        try await eventually(timeout: .seconds(20), "everything delivered") { try Self.pending(database, endpoint).isEmpty }
        let aEvents = receiver.bodies("mch_a").map { String(decoding: $0, as: UTF8.self) }
        #expect(aEvents.count == 2 && aEvents[0].contains("drf_mch_a_\(Self.start)") && aEvents[1].contains("drf_mch_a_\(Self.start + 1)"),
                "mch_a's events arrive in the order they were recorded")
        task.cancel()
        await task.value
        await receiver.shutdown()
    }

    @Test("a 410 that arrives while the loop drains for an unreadable outbox still disables the endpoint")
    func goneWhileOutboxUnreadable() async throws {
        let directory = try TemporaryDirectory("akua-webhooks-window-gone")
        let receiver = try await HoldingReceiver.start(holding: ["mch_gone"], statuses: ["mch_gone": 410])
        let endpoint = Self.endpoint(receiver.url)
        let outbox = try FaultyWhenToldOutbox(path: directory.file("state.sqlite"))
        try recordTransition(in: outbox.database, webhook: endpoint.id, machineID: "mch_gone", atMs: Self.start)
        let clock = ManualDispatcherClock(startMs: Self.start + 10)
        let dispatcher = WebhookDispatcher(
            endpoints: [endpoint], outbox: outbox, userAgent: "test", logger: LogCapture().logger(), clock: clock)
        let task = Task { await dispatcher.run() }

        try await eventually(timeout: .seconds(20), "mch_gone's delivery reaches the receiver") { receiver.arrived("mch_gone") == 1 }
        // The next read fails, so the loop waits for mch_gone's answer (a 410) before it pauses.
        outbox.refuseReads(true)
        dispatcher.wake()
        try await eventually(timeout: .seconds(20), "the loop reads the outbox and fails") { outbox.refusedReads > 0 }
        receiver.release("mch_gone")
        try await eventually(timeout: .seconds(20), "the loop pauses after the failed read") { clock.waits.last.map { $0 != nil } ?? false }
        #expect(!dispatcher.hasDisabledEndpoints, "nothing is decided during the pause")
        // After the pause the 410 is acted on, although the outbox is still unreadable.
        clock.advance(to: try #require(clock.waits.last ?? nil))
        try await eventually(timeout: .seconds(20), "the 410 disables the endpoint") { dispatcher.hasDisabledEndpoints }
        task.cancel()
        await task.value
        await receiver.shutdown()
    }

    static func endpoint(_ url: String) -> WebhookEndpoint {
        WebhookEndpoint(
            url: url, name: "window", signer: WebhookSigner(key: Array(repeating: 7, count: 32)),
            events: Set(DriftState.allCases), timeoutMs: 60_000)
    }

    /// Machines with a pending delivery of `endpoint`, in outbox order.
    static func pending(_ database: AppDatabase, _ endpoint: WebhookEndpoint) throws -> [String] {
        try database.dueDeliveries(webhook: endpoint.id, now: .max, limit: 100).map(\.machineID)
    }
}
