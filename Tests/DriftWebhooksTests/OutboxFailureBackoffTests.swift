import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import Testing

@testable import DriftWebhooks

/// Issue 9, item 10: when the outbox cannot record a delivery's outcome, the dispatcher backs off by the
/// delivery backoff policy instead of re-sending at once (at most one attempt per event per step).
@Suite("Dispatcher backs off when the outbox cannot record an outcome")
struct OutboxFailureBackoffTests {
    static let start: Int64 = 1_800_000_000_000
    /// Step n of this backoff waits in [base·2^(n-1)/2, base·2^(n-1)) (equal jitter).
    static let policy = DeliveryPolicy(backoff: Backoff(baseMs: 10_000, capMs: 600_000))

    @Test("a read-only state file: one attempt per backoff step, then delivered once writable")
    func readOnlyStateFile() async throws {
        let directory = try TemporaryDirectory("akua-webhooks-readonly")
        let receiver = try await CountingReceiver.start(status: 204)
        let endpoint = WebhookEndpoint(
            url: receiver.url, name: "counting", signer: WebhookSigner(key: Array(repeating: 7, count: 32)),
            events: Set(DriftState.allCases), timeoutMs: 5_000)
        let outbox = try FaultyWhenToldOutbox(path: directory.file("state.sqlite"))
        try recordTransition(in: outbox.database, webhook: endpoint.id, atMs: Self.start)
        outbox.refuseWrites(true)

        let logs = LogCapture()
        let clock = ManualDispatcherClock(startMs: Self.start)
        let dispatcher = WebhookDispatcher(
            endpoints: [endpoint], outbox: outbox, policy: Self.policy, userAgent: "test", logger: logs.logger(),
            clock: clock)
        let task = Task { await dispatcher.run() }

        // Attempt 1 is sent, its outcome cannot be written: the loop parks until a deadline one backoff step away.
        try await eventually(timeout: .seconds(20), "the dispatcher parks after attempt 1") { clock.waits.count >= 1 }
        #expect(receiver.count == 1)
        let first = try #require(clock.waits.last ?? nil, "the first wait after a failed write must have a deadline")
        #expect((Self.start + 5_000..<Self.start + 10_000).contains(first), "step 1 is 5-10 s, got \(first - Self.start) ms")
        #expect(outbox.refusals.withLock { $0 } == 1)

        // New events (a wake) do not cut the pause short.
        dispatcher.wake()
        try await eventually(timeout: .seconds(20), "the dispatcher parks again after a wake") { clock.waits.count >= 2 }
        #expect(clock.waits.last == first)
        #expect(receiver.count == 1, "a wake during the pause must not re-send")

        // The deadline passes: attempt 2, again unrecorded, then a longer pause (step 2: 10-20 s).
        clock.advance(to: first)
        try await eventually(timeout: .seconds(20), "the dispatcher parks after attempt 2") { clock.waits.count >= 3 }
        #expect(receiver.count == 2)
        let second = try #require(clock.waits.last ?? nil)
        #expect((first + 10_000..<first + 20_000).contains(second), "step 2 is 10-20 s, got \(second - first) ms")

        // Writable again: attempt 3 is recorded as delivered and the loop goes idle (no deadline).
        outbox.refuseWrites(false)
        clock.advance(to: second)
        try await eventually(timeout: .seconds(20), "the dispatcher goes idle") { clock.waits.count >= 4 }
        #expect(clock.waits.last == .some(nil))
        #expect(receiver.count == 3)
        #expect(try outbox.database.deliveryCounts() == ["delivered": 1])
        // Every attempt carried the same event and body.
        #expect(Set(receiver.all.map(\.webhookID)).count == 1)
        #expect(Set(receiver.all.map(\.body)).count == 1)
        let pauses = logs.records.filter { $0.level == .error && $0.message.contains("webhook deliveries pause") }
        #expect(pauses.count == 2)

        task.cancel()
        await task.value
        await receiver.shutdown()
    }

    @Test("a failing outbox read backs off too, and wakes do not turn it into a loop")
    func unreadableOutbox() async throws {
        let logs = LogCapture()
        let clock = ManualDispatcherClock(startMs: Self.start)
        let endpoint = WebhookEndpoint(
            url: "http://127.0.0.1:9/hook", name: "never", signer: WebhookSigner(key: Array(repeating: 1, count: 32)),
            events: Set(DriftState.allCases), timeoutMs: 1_000)
        let dispatcher = WebhookDispatcher(
            endpoints: [endpoint], outbox: UnreadableOutbox(), policy: Self.policy, userAgent: "test",
            logger: logs.logger(), clock: clock)
        let task = Task { await dispatcher.run() }
        try await eventually(timeout: .seconds(20), "the dispatcher parks") { clock.waits.count >= 1 }
        for _ in 0..<5 { dispatcher.wake() }
        try await eventually(timeout: .seconds(20), "the dispatcher parks again") { clock.waits.count >= 2 }
        #expect(logs.records.filter { $0.message.contains("cannot read the webhook outbox") }.count == 1)
        let deadline = try #require(clock.waits.first ?? nil)
        #expect(deadline >= Self.start + 5_000)
        task.cancel()
        await task.value
    }
}

/// An outbox whose reads always fail (a vanished or corrupt state file).
struct UnreadableOutbox: WebhookOutbox {
    struct Unreadable: Error {}
    func dueDeliveries(webhook: String, now: Int64, limit: Int) throws -> [DeliveryRecord] { throw Unreadable() }
    func nextDeliveryTime(webhook: String, after: Int64) throws -> Int64? { throw Unreadable() }
    func markDelivered(seq: Int64, attempts: Int, at: Int64) throws { throw Unreadable() }
    func scheduleRetry(seq: Int64, attempts: Int, nextAttemptAt: Int64, error: String) throws { throw Unreadable() }
    func markFailed(seq: Int64, attempts: Int, at: Int64, error: String) throws { throw Unreadable() }
}
