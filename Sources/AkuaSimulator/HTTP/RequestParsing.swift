import Hummingbird

/// Small helpers for paths, lengths, cursors and bodies shared by the `/v1` and `/_sim` handlers.
enum RequestParsing {
    /// Path segments after the first two ("" and "v1" / "_sim"), percent-decoded.
    static func segments(of path: String) -> [String] {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeFirst(min(2, parts.count))
        return parts.map { $0.contains("%") ? percentDecode($0) : String($0) }
    }

    static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let h = hexValue(high), let l = hexValue(low)
            {
                bytes.append(h << 4 | l)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Length as JSON Schema counts it (code points).
    static func length(_ text: some StringProtocol) -> Int {
        text.unicodeScalars.count
    }

    static func encodeCursor(prefix: String, _ position: Int) -> String {
        prefix + String(position, radix: 36)
    }

    static func decodeCursor(prefix: String, _ cursor: String) -> Int? {
        guard cursor.hasPrefix(prefix), let value = Int(cursor.dropFirst(prefix.count), radix: 36), value >= 0 else {
            return nil
        }
        return value
    }

    /// Reads the whole body (nil when it exceeds `limit`).
    static func body(of request: Request, limit: Int) async -> [UInt8]? {
        var bytes: [UInt8] = []
        do {
            for try await buffer in request.body {
                guard bytes.count + buffer.readableBytes <= limit else { return nil }
                bytes.append(contentsOf: buffer.readableBytesView)
            }
        } catch {
            return nil
        }
        return bytes
    }

    /// True for `application/json` or any `+json` media type, parameters (`; charset=utf-8`) allowed.
    static func isJSONMediaType(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let first = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let mediaType = first.drop(while: { $0 == " " || $0 == "\t" }).reversed()
            .drop(while: { $0 == " " || $0 == "\t" }).reversed().map { String($0) }.joined().lowercased()
        return mediaType == "application/json" || mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json")
    }

    static func isBlank(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
    }
}
