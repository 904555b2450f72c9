import Crypto
import Foundation

/// Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(secret, "id.timestamp.body")), where the
/// secret is the base64 part of `whsec_...`. Any Standard Webhooks library verifies what this signs.
public struct WebhookSigner: Sendable {
    private let key: SymmetricKey

    public enum SecretError: Error, CustomStringConvertible {
        case malformed
        public var description: String { "webhook secret must be whsec_ followed by base64 (at least 16 bytes)" }
    }

    /// `secret` is the full `whsec_...` text; it is kept only as a key, never printed.
    public init(secret: String) throws(SecretError) {
        var text = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("whsec_") { text.removeFirst(6) }
        guard let bytes = Data(base64Encoded: text), bytes.count >= 16 else { throw .malformed }
        key = SymmetricKey(data: bytes)
    }

    /// The `webhook-signature` header value for one attempt.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// Verifies a `webhook-signature` header (space-separated list of `v1,<base64>`), as receivers do.
    public func verify(id: String, timestamp: Int64, body: [UInt8], header: String) -> Bool {
        let expected = signature(id: id, timestamp: timestamp, body: body)
        return header.split(separator: " ").contains { candidate in
            let a = Array(candidate.utf8)
            let b = Array(expected.utf8)
            guard a.count == b.count else { return false }
            var diff: UInt8 = 0
            for index in a.indices { diff |= a[index] ^ b[index] }
            return diff == 0
        }
    }
}
