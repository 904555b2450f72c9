/// The one decoder of Standard Webhooks secrets (`whsec_<base64>`), used by config validation and by the
/// signer, so that `check-config` and `run` can never disagree about a secret.
public enum WebhookSecret {
    public static let prefix = "whsec_"
    /// Shortest decoded key accepted.
    public static let minimumKeyBytes = 16

    /// Why a secret was rejected. The descriptions never contain the secret or any part of it.
    public enum DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Empty, or only whitespace.
        case empty
        /// Does not start with `whsec_`.
        case missingPrefix
        /// Spaces, control or non-ASCII characters inside the value.
        case invalidCharacters
        /// The part after `whsec_` is not standard base64.
        case notBase64
        /// Decodes to fewer than `minimumKeyBytes` bytes.
        case tooShort(bytes: Int)

        public var description: String {
            switch self {
            case .empty: "is empty"
            case .missingPrefix: "must hold a Standard Webhooks secret: \"whsec_\" followed by base64"
            case .invalidCharacters: "contains spaces, control or non-ASCII characters (only visible ASCII is allowed)"
            case .notBase64: "is not valid base64 after \"whsec_\""
            case .tooShort(let bytes):
                "is too short (\(bytes) bytes after base64 decoding; at least \(WebhookSecret.minimumKeyBytes))"
            }
        }
    }

    /// The signing key of a `whsec_<base64>` secret. Leading and trailing whitespace (a file's final
    /// newline) is ignored; the base64 may be padded with `=` or not.
    public static func decode(_ text: String) throws(DecodeError) -> [UInt8] {
        var bytes = Array(text.utf8)[...]
        while let first = bytes.first, isSpace(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        if bytes.isEmpty { throw .empty }
        if bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) { throw .invalidCharacters }
        let prefixBytes = Array(prefix.utf8)
        guard bytes.starts(with: prefixBytes) else { throw .missingPrefix }
        guard let key = Base64.decode(Array(bytes.dropFirst(prefixBytes.count))) else { throw .notBase64 }
        guard key.count >= minimumKeyBytes else { throw .tooShort(bytes: key.count) }
        return key
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

/// Strict standard-alphabet base64 (RFC 4648 §4): no whitespace, no URL-safe characters; `=` padding
/// optional, but correct when present; unused trailing bits must be zero.
public enum Base64 {
    /// The decoded bytes, or nil when `input` is not base64.
    public static func decode(_ input: [UInt8]) -> [UInt8]? {
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
