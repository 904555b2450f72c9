import AkuaAPI
import AkuaSimulator
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import DriftWebhooks
import Foundation
import Logging
import Testing

/// Webhook receivers that are down, failing, rate limiting, gone, hanging, redirecting or presenting a
/// bad certificate, against the real `WebhookDispatcher` and a real outbox (time compressed through an
/// injected short backoff): every pending event arrives exactly as first signed, in order per machine,
/// across a restart; one bad receiver never delays another one or the checks.
@Suite("Webhook faults (dispatcher and outbox)")
struct WebhookFaultTests {
    static let policy = DeliveryPolicy(backoff: Backoff(baseMs: 100, capMs: 800))
    static let machines = ["mch_w1", "mch_w2", "mch_w3"]

    @Test("receiver down for a long stretch, dispatcher restarted during the outage: nothing lost, nothing changed",
          .enabled(if: TestPreconditions.sqlite3, TestPreconditions.sqlite3Reason))
    func downThenRestartThenRecovery() async throws {
        let seed = ReliabilitySeed.seed("webhook receiver down", default: 0xB0)
        var random = SeededRandom(seed: seed)
        let dir = try TemporaryDirectory("akua-reliability-webhook")
        let logs = LogCapture()
        let port = try freeLoopbackPort()
        let endpoint = try WebhookChecks.endpoint("http://127.0.0.1:\(port)/hook", name: "down")
        let path = dir.file("state.sqlite")
        let writer = OutboxWriter(database: try AppDatabase.open(path: path))
        var dispatcher = RunningDispatcher(endpoints: [endpoint], database: writer.database, policy: Self.policy, logger: logs.logger())
        writer.onRecorded = { [dispatcher] in dispatcher.dispatcher.wake() }
        let outageStart = wallMs()
        for _ in 0..<9 {
            try writer.next(random.pick(Self.machines), webhooks: [endpoint.id])
            try await Task.sleep(for: .milliseconds(random.int(20...150)))
        }
        try await Task.sleep(for: .milliseconds(1_200))
        // A restart in the middle of the outage: a new process would open the state file afresh.
        await dispatcher.stop()
        writer.database = try AppDatabase.open(path: path)
        dispatcher = RunningDispatcher(endpoints: [endpoint], database: writer.database, policy: Self.policy, logger: logs.logger())
        writer.onRecorded = { [dispatcher] in dispatcher.dispatcher.wake() }
        for _ in 0..<6 {
            try writer.next(random.pick(Self.machines), webhooks: [endpoint.id])
            try await Task.sleep(for: .milliseconds(random.int(20...150)))
        }
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(try writer.database.deliveryCounts()["pending"] == writer.events.count)
        #expect(logs.records.contains { $0.level == .warning && $0.message.contains("connection failed") })
        let outageMs = wallMs() - outageStart

        let receiver = try await TestWebhookReceiver.start(secret: WebhookChecks.secret, port: port)
        try await eventually(timeout: .seconds(15), "every event is delivered once the receiver is back") {
            try writer.database.deliveryCounts()["delivered"] == writer.events.count
        }
        await dispatcher.stop()
        await receiver.shutdown()
        WebhookChecks.verifyDelivered(writer.events, at: receiver, "down")
        // Backed off during the outage (attempts are in the outbox): no more than the backoff allows.
        let bound = WebhookChecks.maxAttempts(within: outageMs + 2_000, policy: Self.policy)
        let attempts = try sqliteInts(path, "SELECT attempts FROM delivery")
        #expect(attempts.allSatisfy { $0 >= 1 && $0 <= bound }, "attempts \(attempts), the backoff allows at most \(bound)")
        #expect(attempts.max() ?? 0 >= 3, "the outage should have caused retries")
    }

    @Test("500 then 429 with Retry-After: retried with backoff, Retry-After honoured, same body every time")
    func errorsThenRateLimit() async throws {
        let seed = ReliabilitySeed.seed("webhook 500 and 429", default: 0xB1)
        var random = SeededRandom(seed: seed)
        let dir = try TemporaryDirectory("akua-reliability-webhook")
        let logs = LogCapture()
        let receiver = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        receiver.respond(with: 500)
        let endpoint = try WebhookChecks.endpoint(receiver.url, name: "flaky")
        let writer = OutboxWriter(database: try AppDatabase.open(path: dir.file("state.sqlite")))
        let dispatcher = RunningDispatcher(endpoints: [endpoint], database: writer.database, policy: Self.policy, logger: logs.logger())
        writer.onRecorded = { [dispatcher] in dispatcher.dispatcher.wake() }
        for _ in 0..<6 { try writer.next(random.pick(Array(Self.machines.prefix(2))), webhooks: [endpoint.id]) }
        // Each phase lasts until the receiver has answered in it (not a fixed time: a loaded host may not
        // have sent the first attempt yet), then a little longer for the retries it causes.
        try await eventually(timeout: .seconds(15), "a delivery is answered with 500") { receiver.attempts.contains { $0.status == 500 } }
        try await Task.sleep(for: .milliseconds(1_000))
        receiver.respond(with: 429, headers: ["retry-after": "1"])
        try await eventually(timeout: .seconds(15), "a delivery is answered with 429") { receiver.attempts.contains { $0.status == 429 } }
        try await Task.sleep(for: .milliseconds(1_500))
        receiver.respond(with: 204, headers: [:])
        try await eventually(timeout: .seconds(15), "every event is delivered after the errors") {
            try writer.database.deliveryCounts()["delivered"] == writer.events.count
        }
        await dispatcher.stop()
        await receiver.shutdown()
        WebhookChecks.verifyDelivered(writer.events, at: receiver, "500/429")
        let byID = Dictionary(grouping: receiver.attempts, by: \.webhookID)
        var rateLimited = 0
        for (id, attempts) in byID {
            let sorted = attempts.sorted { $0.receivedAtMs < $1.receivedAtMs }
            for (index, pair) in zip(sorted, sorted.dropFirst()).enumerated() {
                let retryAfter: Int64? = pair.0.status == 429 ? 1_000 : nil
                if retryAfter != nil { rateLimited += 1 }
                let minimum = Self.policy.backoff.delay(attempt: index + 1, jitter: 0, retryAfterMs: retryAfter)
                let gap = pair.1.receivedAtMs - pair.0.receivedAtMs
                #expect(gap >= minimum - 10, "\(id): attempt \(index + 2) \(gap) ms after an HTTP \(pair.0.status); at least \(minimum) ms allowed")
            }
        }
        #expect(rateLimited >= 1, "no delivery was retried after a 429")
        #expect(receiver.attempts.contains { $0.status == 500 })
    }

    @Test("410 disables only that endpoint (until a reload); the other receives everything; nothing is lost")
    func goneDisablesOnlyThatEndpoint() async throws {
        let seed = ReliabilitySeed.seed("webhook 410", default: 0xB2)
        var random = SeededRandom(seed: seed)
        let dir = try TemporaryDirectory("akua-reliability-webhook")
        let logs = LogCapture()
        let gone = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        let healthy = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        gone.respond(with: 410)
        // A timeout far above loopback latency: under the suite's load a 500 ms one can expire before the
        // answer is read, and a timed-out attempt is rightly retried, which is not what this test is about.
        let goneEndpoint = try WebhookChecks.endpoint(gone.url, name: "gone", timeoutMs: 5_000)
        let healthyEndpoint = try WebhookChecks.endpoint(healthy.url, name: "healthy", timeoutMs: 5_000)
        let writer = OutboxWriter(database: try AppDatabase.open(path: dir.file("state.sqlite")))
        var dispatcher = RunningDispatcher(
            endpoints: [goneEndpoint, healthyEndpoint], database: writer.database, policy: Self.policy, logger: logs.logger())
        writer.onRecorded = { [dispatcher] in dispatcher.dispatcher.wake() }
        for _ in 0..<8 {
            try writer.next(random.pick(Self.machines), webhooks: [goneEndpoint.id, healthyEndpoint.id])
            try await Task.sleep(for: .milliseconds(random.int(50...200)))
        }
        try await eventually(timeout: .seconds(10), "the healthy receiver got every event") {
            try writer.database.deliveryCounts(webhook: healthyEndpoint.id)["delivered"] == writer.events.count
        }
        try await Task.sleep(for: .milliseconds(1_000))
        // One batch (each machine's oldest event) reached the gone endpoint, then it was left alone.
        #expect(gone.attempts.count >= 1 && gone.attempts.count <= Self.machines.count, "\(gone.attempts.count) requests to a 410 endpoint")
        #expect(try writer.database.deliveryCounts(webhook: goneEndpoint.id) == ["pending": writer.events.count], "events for the disabled endpoint must stay in the outbox")
        #expect(logs.records.contains { $0.level == .error && $0.metadata["message_id"] == JournalMessageID.webhookFailed && $0.message.contains("410") })
        WebhookChecks.verifyDelivered(writer.events, at: healthy, "healthy beside a 410")

        // A reload builds a new dispatcher: the endpoint is used again and gets everything, in order.
        await dispatcher.stop()
        gone.respond(with: 204)
        dispatcher = RunningDispatcher(
            endpoints: [goneEndpoint, healthyEndpoint], database: writer.database, policy: Self.policy, logger: logs.logger())
        writer.onRecorded = { [dispatcher] in dispatcher.dispatcher.wake() }
        try await eventually(timeout: .seconds(10), "the re-enabled endpoint gets the pending events") {
            try writer.database.deliveryCounts(webhook: goneEndpoint.id)["delivered"] == writer.events.count
        }
        await dispatcher.stop()
        await gone.shutdown()
        await healthy.shutdown()
        WebhookChecks.verifyDelivered(writer.events, at: gone, "after the reload")
    }

    @Test("a redirect is never followed: the event fails permanently, the target sees nothing")
    func redirectNotFollowed() async throws {
        _ = ReliabilitySeed.seed("webhook redirect", default: 0xB3)
        let dir = try TemporaryDirectory("akua-reliability-webhook")
        let logs = LogCapture()
        let target = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        let redirecting = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        redirecting.respond(with: 307, headers: ["location": target.url])
        // A timeout far above loopback latency (see the 410 test): only the 307 must decide.
        let endpoint = try WebhookChecks.endpoint(redirecting.url, name: "redirecting", timeoutMs: 5_000)
        let writer = OutboxWriter(database: try AppDatabase.open(path: dir.file("state.sqlite")))
        let dispatcher = RunningDispatcher(endpoints: [endpoint], database: writer.database, policy: Self.policy, logger: logs.logger())
        writer.onRecorded = { [dispatcher] in dispatcher.dispatcher.wake() }
        for machine in Self.machines { try writer.next(machine, webhooks: [endpoint.id]) }
        try await eventually(timeout: .seconds(10), "the redirected events are given up") {
            try writer.database.deliveryCounts()["failed"] == writer.events.count
        }
        try await Task.sleep(for: .milliseconds(500))
        await dispatcher.stop()
        #expect(target.attempts.isEmpty, "the redirect was followed")
        #expect(redirecting.attempts.count == writer.events.count, "a redirect must not be retried")
        #expect(logs.records.contains { $0.level == .error && $0.message.contains("redirects are not followed") && $0.metadata["message_id"] == JournalMessageID.webhookFailed })
        await target.shutdown()
        await redirecting.shutdown()
    }

    @Test("a receiver with a self-signed certificate is never trusted; the API client refuses it too",
          .enabled(if: TestPreconditions.sqlite3, TestPreconditions.sqlite3Reason),
          .enabled(if: TestPreconditions.opensslAndPython, TestPreconditions.opensslAndPythonReason))
    func badCertificate() async throws {
        _ = ReliabilitySeed.seed("webhook bad TLS certificate", default: 0xB4)
        let dir = try TemporaryDirectory("akua-reliability-tls")
        let logs = LogCapture()
        let server = try await SelfSignedServer.start(in: dir)
        let endpoint = try WebhookChecks.endpoint(server.url + "/hook", name: "selfsigned")
        let writer = OutboxWriter(database: try AppDatabase.open(path: dir.file("state.sqlite")))
        let dispatcher = RunningDispatcher(endpoints: [endpoint], database: writer.database, policy: Self.policy, logger: logs.logger())
        writer.onRecorded = { [dispatcher] in dispatcher.dispatcher.wake() }
        try writer.next("mch_w1", webhooks: [endpoint.id])
        do {
            try await eventually(timeout: .seconds(10), "the delivery was attempted and retried") {
                (try sqliteInts(dir.file("state.sqlite"), "SELECT attempts FROM delivery").first ?? 0) >= 2
            }
        } catch {
            print(logs.records.map(\.fullText).joined(separator: "\n"))
            print(try sqliteLines(dir.file("state.sqlite"), "SELECT attempts, status, last_error FROM delivery"))
            throw error
        }
        await dispatcher.stop()
        #expect(try writer.database.deliveryCounts() == ["pending": 1], "an event to an untrusted receiver must stay pending")
        let failures = logs.records.filter { $0.message.contains("webhook delivery of") && $0.level == .warning }
        #expect(!failures.isEmpty)
        print("[reliability] webhook to a self-signed receiver: \(failures.first?.message ?? "-")")

        // The Akua API client behind the same certificate: a transport error, nothing sent.
        let client = try AkuaClient(configuration: AkuaClientConfiguration(
            baseURL: server.url + "/v1", token: "sk_akua_tls_probe", timeout: .seconds(5), environment: [:]), logger: logs.logger())
        var failure: AkuaAPIError?
        do {
            let _: CreatedDriftReport = try await client.createDriftReport(machineID: "mch_w1", idempotencyKey: "v1.m.1.probe", trigger: "manual")
        } catch {
            failure = error
        }
        await client.shutdown()
        guard case .transport(let message)? = failure else {
            Issue.record("expected a transport error, got \(String(describing: failure))")
            await server.stop()
            return
        }
        print("[reliability] Akua API behind a self-signed certificate: \(message)")
        #expect(server.requests.isEmpty, "an HTTP request got through an unverified TLS connection: \(server.requests)")
        await server.stop()
    }

    @Test("a hanging receiver delays neither another receiver nor the checks",
          .enabled(if: TestPreconditions.sqlite3, TestPreconditions.sqlite3Reason))
    func hangingReceiverIsolated() async throws {
        let seed = ReliabilitySeed.seed("webhook hanging receiver", default: 0xB5)
        let hanging = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        let healthy = try await TestWebhookReceiver.start(secret: WebhookChecks.secret)
        hanging.hang(true)
        // A long timeout: were the healthy receiver or the checks waiting on it, they would be seconds late.
        let hangingEndpoint = try WebhookChecks.endpoint(hanging.url, name: "hanging", timeoutMs: 3_000)
        let healthyEndpoint = try WebhookChecks.endpoint(healthy.url, name: "healthy")
        var options = EngineHarness.Options(
            simulated: [
                SimulatedMachine(id: "mch_h1", scenario: .flip(everySeconds: 1.5, startingWith: .inSync)),
                SimulatedMachine(id: "mch_h2", scenario: .flip(everySeconds: 2, startingWith: .drifted)),
                SimulatedMachine(id: "mch_h3", scenario: .fixed(.drifted)),
            ],
            seed: seed)
        options.defaultIntervalMs = 500
        options.subscriptions = [hangingEndpoint, healthyEndpoint].map {
            EngineSettings.Subscription(webhookID: $0.id, events: Set(DriftState.allCases))
        }
        try await EngineHarness.run(options, autoStart: false) { h in
            let lags = LagRecorder()
            h.relay.onCheckStarted = { due, started in lags.add(started - due) }
            let dispatcher = RunningDispatcher(
                endpoints: [hangingEndpoint, healthyEndpoint], database: h.database, policy: Self.policy, logger: h.logs.logger())
            h.relay.onOutbox = { dispatcher.dispatcher.wake() }
            try h.start()
            try await Task.sleep(for: .seconds(6))
            let wanted = try h.transitions().filter { $0.isWanted(by: Set(DriftState.allCases)) }
            #expect(wanted.count >= 6, "only \(wanted.count) transitions to deliver")
            // The healthy receiver got each event promptly, while the other one hangs.
            let cutoff = wallMs() - 1_500
            for transition in wanted where transition.at < cutoff {
                let first = healthy.attempts.first { $0.webhookID == transition.eventID }
                let delay = (first?.receivedAtMs ?? .max) - transition.at
                // Waiting on the hanging receiver would mean 3 s (its timeout) or more.
                #expect(delay <= 1_500, "\(transition.eventID) reached the healthy receiver \(delay) ms after it was recorded")
            }
            #expect(hanging.attempts.isEmpty)
            // The checks kept their rhythm.
            let worst = lags.values.max() ?? 0
            // 3 machines × 12 slots in 6 s; under the suite's parallel load each check may take a slot or two,
            // so liveness asks for a quarter of them, and the rhythm claim is the lag bound.
            #expect(lags.values.count >= 9 && worst <= 1_500, "\(lags.values.count) checks, worst lag \(worst) ms")
            print("[reliability] hanging receiver: \(lags.values.count) checks, worst scheduling lag \(worst) ms")
            // Freeze the fleet so that the set of events is final, then let the receiver answer.
            for id in ["mch_h1", "mch_h2", "mch_h3"] { try h.control.setState(.drifted, machineID: id) }
            try await Task.sleep(for: .milliseconds(1_500))
            let events = try h.transitions().filter { $0.isWanted(by: Set(DriftState.allCases)) }
            hanging.hang(false)
            try await eventually(timeout: .seconds(20), "the hanging receiver gets everything once it answers") {
                Set(events.map(\.eventID)).isSubset(of: Set(hanging.deliveries.map(\.id)))
            }
            await dispatcher.stop()
            let bodies = try events.map { OutboxWriter.Event(transition: $0, body: try sqliteBlob(h.statePath, eventID: $0.eventID)) }
            WebhookChecks.verifyDelivered(bodies, at: hanging, "hanging then answering")
            WebhookChecks.verifyDelivered(bodies, at: healthy, "healthy")
        }
        await hanging.shutdown()
        await healthy.shutdown()
    }
}

/// Scheduling lags reported by the engine (`onCheckStarted`).
final class LagRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Int64] = []
    func add(_ lag: Int64) { lock.withLock { stored.append(lag) } }
    var values: [Int64] { lock.withLock { stored } }
}

/// Integers from a read-only query of a SQLite file, through the sqlite3 shell (columns the store does not expose).
func sqliteInts(_ path: String, _ sql: String) throws -> [Int] {
    try sqliteLines(path, sql).compactMap { Int($0) }
}

func sqliteLines(_ path: String, _ sql: String) throws -> [String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = ["-readonly", path, sql]
    let pipe = Pipe()
    process.standardOutput = pipe
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw HarnessError("sqlite3 -readonly \(path) \"\(sql)\" exited \(process.terminationStatus): \(errorText)")
    }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
}

/// The outbox body of one event, as stored (hex through sqlite3, decoded here).
func sqliteBlob(_ path: String, eventID: String) throws -> [UInt8] {
    let hex = try sqliteLines(path, "SELECT hex(body) FROM delivery WHERE event_id = '\(eventID)' LIMIT 1").first ?? ""
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}
