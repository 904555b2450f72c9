import DriftCore
import Foundation
import Testing

@testable import DriftWebhooks

/// Issue 9, item 14: the body is a function of the transition's recorded data, never of the local
/// clock, so two replicas send byte-identical bodies for the same change.
@Suite("Webhook payload")
struct WebhookPayloadTests {
    /// 2026-12-01T10:20:30Z and 15 minutes later.
    static let createdAt: Int64 = 1_796_120_430
    static let report = DriftReport(
        id: "drf_1", machineID: "mch_1", state: .drifted, etag: "e", createdAt: createdAt, startedAt: createdAt - 2,
        expiresAt: createdAt + 900, delta: ["cpu": .object(["desired": .integer(2), "actual": .integer(4)])])

    static func transition(cause: TransitionCause, state: DriftState, report: DriftReport?, at: Int64) -> Transition {
        Transition(
            machineID: "mch_1", machineName: "web-1", previous: .inSync, state: state, cause: cause, report: report,
            at: at, firstObservation: false)
    }

    static func timestamp(_ body: [UInt8]) throws -> String {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        return try #require(object["timestamp"] as? String)
    }

    @Test("the same transition seen at different local times gives identical bytes")
    func identicalAcrossClocks() throws {
        let ats: [Int64] = [Self.createdAt * 1000 + 17, Self.createdAt * 1000 + 3_600_000, 0, -5]
        let bodies = ats.map { WebhookPayload.body(for: Self.transition(cause: .report, state: .drifted, report: Self.report, at: $0)) }
        #expect(Set(bodies).count == 1)
        #expect(try Self.timestamp(bodies[0]) == "2026-12-01T10:20:30.000Z")
    }

    @Test("an expiry is stamped with the report's expires_at, a set occurredAtMs wins")
    func expiryAndExplicitInstant() throws {
        let expired = Self.transition(cause: .expired, state: .unknown, report: Self.report, at: 42)
        #expect(try Self.timestamp(WebhookPayload.body(for: expired)) == "2026-12-01T10:35:30.000Z")
        var gone = Self.transition(cause: .machineGone, state: .unknown, report: Self.report, at: 42)
        gone.occurredAtMs = Self.createdAt * 1000 + 60_250
        let goneLater = { var copy = gone; copy.at = 99_999; return copy }()
        #expect(WebhookPayload.body(for: gone) == WebhookPayload.body(for: goneLater))
        #expect(try Self.timestamp(WebhookPayload.body(for: gone)) == "2026-12-01T10:21:30.250Z")
    }

    @Test("ISO-8601 text agrees with Foundation's formatter", arguments: [1, 2, 3] as [UInt64])
    func agreesWithFoundation(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for _ in 0..<500 {
            // 1970 ... 2400, millisecond resolution.
            let ms = Int64(random.next() % 13_569_465_600_000)
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(ms / 1000)))
                .replacingOccurrences(of: ".000Z", with: String(format: ".%03dZ", Int(ms % 1000)))
            #expect(WebhookPayload.iso8601(milliseconds: ms) == expected, "\(ms)")
        }
    }

    @Test("ISO-8601 edges: epoch, leap day, before 1970, clamped to years 0000 and 9999")
    func edges() {
        #expect(WebhookPayload.iso8601(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(WebhookPayload.iso8601(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(WebhookPayload.iso8601(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(WebhookPayload.iso8601(milliseconds: 253_402_300_799_999) == "9999-12-31T23:59:59.999Z")
        #expect(WebhookPayload.iso8601(milliseconds: .max) == "9999-12-31T23:59:59.999Z")
        #expect(WebhookPayload.iso8601(milliseconds: .min) == "0000-01-01T00:00:00.000Z")
        let far = DriftReport(
            id: "drf_far", machineID: "mch_1", state: .inSync, etag: "e", createdAt: .max, startedAt: 0, expiresAt: .max)
        let body = WebhookPayload.body(for: Self.transition(cause: .report, state: .inSync, report: far, at: 0))
        #expect((try? Self.timestamp(body)) == "9999-12-31T23:59:59.999Z")
    }
}
