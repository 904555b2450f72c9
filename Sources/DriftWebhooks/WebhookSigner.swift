import Crypto
import DriftCore
import Foundation

/// Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(secret, "id.timestamp.body")), where the
/// secret is the base64 part of `whsec_...`. Any Standard Webhooks library verifies what this signs.
public struct WebhookSigner: Sendable {
    private let key: SymmetricKey

    /// Why a secret cannot be used; never contains the secret.
    public enum SecretError: Error, CustomStringConvertible {
        /// Kept for source compatibility; `init(secret:)` throws `.invalid` with the reason.
        case malformed
        case invalid(WebhookSecret.DecodeError)
        public var description: String {
            switch self {
            case .malformed: "webhook secret must be whsec_ followed by base64 (at least 16 bytes)"
            case .invalid(let reason): "webhook secret \(reason)"
            }
        }
    }

    /// `secret` is the full `whsec_...` text, decoded by `WebhookSecret.decode` (the decoder config
    /// validation uses, so a config `check-config` accepts always yields a signer); kept only as a key.
    public init(secret: String) throws(SecretError) {
        do {
            key = SymmetricKey(data: try WebhookSecret.decode(secret))
        } catch {
            throw .invalid(error)
        }
    }

    /// A signer for already decoded key bytes.
    public init(key bytes: [UInt8]) {
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
