import Foundation

/// A token or webhook secret that never prints itself: `description`, `debugDescription` and
/// reflection (`dump`, string interpolation) all show `<redacted>`. Call `reveal()` only where the
/// value is actually used.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: String
    /// Where the value came from, safe to log: a file path or `$AKUA_API_TOKEN`.
    public let source: String

    public init(_ value: String, source: String) {
        self.value = value
        self.source = source
    }

    /// The secret itself.
    public func reveal() -> String { value }

    /// For a Standard Webhooks secret (`whsec_<base64>`): the decoded signing key bytes; nil otherwise.
    public func revealWebhookKey() -> Data? {
        WebhookSecretFormat.key(from: value).map { Data($0) }
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// The `whsec_<base64>` format of Standard Webhooks secrets.
enum WebhookSecretFormat {
    static let prefix = "whsec_"
    /// Shortest decoded key accepted.
    static let minimumKeyBytes = 16

    /// The key bytes after `whsec_`, decoded from standard base64 (padding optional); nil if malformed.
    static func key(from text: String) -> [UInt8]? {
        guard text.hasPrefix(prefix) else { return nil }
        return Base64.decode(Array(text.utf8.dropFirst(prefix.utf8.count)))
    }
}

/// Strict standard-alphabet base64: no whitespace, no URL-safe characters, correct padding if present.
enum Base64 {
    static func decode(_ input: [UInt8]) -> [UInt8]? {
        var body = input[...]
        var padding = 0
        while body.last == 0x3D, padding < 2 {
            body = body.dropLast()
            padding += 1
        }
        if padding > 0, input.count % 4 != 0 { return nil }
        if body.count % 4 == 1 { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(body.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in body {
            guard let value = sextet(byte) else { return nil }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        // Leftover bits must be zero in canonical base64.
        if bits > 0, buffer & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x41...0x5A: byte - 0x41
        case 0x61...0x7A: byte - 0x61 + 26
        case 0x30...0x39: byte - 0x30 + 52
        case 0x2B: 62
        case 0x2F: 63
        default: nil
        }
    }
}
