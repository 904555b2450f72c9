import DriftTestSupport
import DriftWebhooks
import Foundation
import Testing

/// Oracles for the signature that do not come from this project: the Standard Webhooks specification's
/// published example (standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py,
/// `test_sign_function`; the same vector appears in its other libraries' tests), and an independent
/// implementation (Python's hmac, Tests/Support/webhook-check.py) for arbitrary messages.
@Suite("Standard Webhooks signature: known answer and an independent verifier")
struct StandardWebhooksVectorTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let msgID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1_614_265_330
    static let payload = #"{"test": 2432232314}"#
    static let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    @Test("the specification's example: whsec_MfKQ…, msg_p5jX…, 1614265330, {\"test\": 2432232314} -> v1,g0hM9SsE…")
    func knownAnswer() throws {
        let signer = try WebhookSigner(secret: Self.secret)
        #expect(signer.signature(id: Self.msgID, timestamp: Self.timestamp, body: Array(Self.payload.utf8)) == Self.expected)
        #expect(signer.verify(id: Self.msgID, timestamp: Self.timestamp, body: Array(Self.payload.utf8), header: Self.expected))
        // As a receiver gets it: several signatures in the header, ours among them.
        #expect(signer.verify(id: Self.msgID, timestamp: Self.timestamp, body: Array(Self.payload.utf8),
                              header: "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= \(Self.expected)"))
        // The specification's negative example: one character off.
        #expect(!signer.verify(id: Self.msgID, timestamp: Self.timestamp, body: Array(Self.payload.utf8),
                               header: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="))
        #expect(!signer.verify(id: Self.msgID, timestamp: Self.timestamp + 1, body: Array(Self.payload.utf8), header: Self.expected))
        #expect(!signer.verify(id: Self.msgID, timestamp: Self.timestamp, body: Array(#"{"test": 2432232315}"#.utf8), header: Self.expected))
    }

    @Test("the independent verifier agrees with the specification's example and with the signer on 200 random messages")
    func independentVerifierAgrees() async throws {
        let checker = try await IndependentWebhookCheck.start(secret: Self.secret)
        defer { checker.stop() }
        let known = await checker.check(id: Self.msgID, timestamp: String(Self.timestamp), signature: Self.expected, body: Array(Self.payload.utf8))
        #expect(known.signatureOK)
        let wrong = await checker.check(id: Self.msgID, timestamp: String(Self.timestamp + 1), signature: Self.expected, body: Array(Self.payload.utf8))
        #expect(!wrong.signatureOK, "the independent verifier accepts anything: it proves nothing")

        let signer = try WebhookSigner(secret: Self.secret)
        var random = SystemRandomNumberGenerator()
        for index in 0..<200 {
            let id = "evt_\(index)_" + String(UInt64.random(in: 0...UInt64.max, using: &random), radix: 16)
            let timestamp = Int64.random(in: 0...4_102_444_800, using: &random)
            let body = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let signature = signer.signature(id: id, timestamp: timestamp, body: body)
            let verdict = await checker.check(id: id, timestamp: String(timestamp), signature: signature, body: body)
            #expect(verdict.signatureOK, "Python's HMAC rejects the signer's \(signature) for \(id) at \(timestamp)")
            var tampered = body
            tampered.append(0x20)
            #expect(!(await checker.check(id: id, timestamp: String(timestamp), signature: signature, body: tampered)).signatureOK)
        }
    }
}
