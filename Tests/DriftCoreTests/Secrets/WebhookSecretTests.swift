import Foundation
import Testing

@testable import DriftCore

@Suite("Webhook secret decoding")
struct WebhookSecretTests {
    /// RFC 4648 §10 test vectors, padded as the RFC writes them.
    static let vectors: [(String, String)] = [
        ("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg==", "foob"), ("Zm9vYmE=", "fooba"),
        ("Zm9vYmFy", "foobar"),
    ]

    @Test("RFC 4648 vectors decode with and without their padding")
    func rfcVectors() {
        for (encoded, plain) in Self.vectors {
            #expect(Base64.decode(Array(encoded.utf8)) == Array(plain.utf8), "\(encoded)")
            let unpadded = encoded.replacingOccurrences(of: "=", with: "")
            #expect(Base64.decode(Array(unpadded.utf8)) == Array(plain.utf8), "\(unpadded)")
        }
    }

    @Test("malformed base64 is rejected", arguments: [
        "aGVsbG9=",  // non-zero trailing bits
        "aGVsbG8==",  // too much padding
        "Zg=",  // padding that does not complete a quantum
        "aGV sbG8=", "aGVsbG8-", "aGVsbG8_", "a", "Zg==Zg==", "=",
    ])
    func malformed(text: String) {
        #expect(Base64.decode(Array(text.utf8)) == nil)
    }

    @Test("agrees with Foundation's encoder for every length")
    func roundTrip() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let padded = Data(bytes).base64EncodedString()
            #expect(Base64.decode(Array(padded.utf8)) == bytes)
            #expect(Base64.decode(Array(padded.replacingOccurrences(of: "=", with: "").utf8)) == bytes)
        }
    }

    @Test("a whsec_ secret decodes to the same key padded or not, with a trailing newline")
    func paddedAndUnpadded() throws {
        let key = (0..<32).map { UInt8($0 * 7 % 256) }
        let padded = "whsec_" + Data(key).base64EncodedString()
        #expect(padded.hasSuffix("="), "32 bytes need one padding character")
        let unpadded = String(padded.dropLast())
        #expect(try WebhookSecret.decode(padded) == key)
        #expect(try WebhookSecret.decode(unpadded) == key)
        #expect(try WebhookSecret.decode(unpadded + "\n") == key)
        #expect(try WebhookSecret.decode("  " + padded + "\r\n") == key)
    }

    @Test("garbage is rejected with a reason that never repeats the secret")
    func garbage() {
        let cases: [(String, WebhookSecret.DecodeError)] = [
            ("", .empty),
            (" \n", .empty),
            ("c2VjcmV0LXNlY3JldC1zZWNyZXQ=", .missingPrefix),
            ("WHSEC_c2VjcmV0LXNlY3JldC1zZWNyZXQ=", .missingPrefix),
            ("whsec_c2Vjc mV0LXNlY3JldC1zZWNyZXQ=", .invalidCharacters),
            ("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQé", .invalidCharacters),
            ("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ*", .notBase64),
            ("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ_", .notBase64),
            ("whsec_", .tooShort(bytes: 0)),
            ("whsec_c2hvcnQ=", .tooShort(bytes: 5)),
        ]
        for (text, expected) in cases {
            #expect(throws: expected, "\(text.debugDescription)") { try WebhookSecret.decode(text) }
            do {
                _ = try WebhookSecret.decode(text)
            } catch {
                let message = error.description
                #expect(!message.isEmpty)
                for secretPart in ["c2Vjc", "c2hvcnQ", "mV0LX"] {
                    #expect(!message.contains(secretPart), "\(message)")
                }
            }
        }
    }

    @Test("exactly the minimum key length is accepted")
    func minimumLength() throws {
        let sixteen = [UInt8](repeating: 0xA5, count: 16)
        #expect(try WebhookSecret.decode("whsec_" + Data(sixteen).base64EncodedString()) == sixteen)
        let fifteen = [UInt8](repeating: 0xA5, count: 15)
        #expect(throws: WebhookSecret.DecodeError.tooShort(bytes: 15)) {
            try WebhookSecret.decode("whsec_" + Data(fifteen).base64EncodedString())
        }
    }
}
