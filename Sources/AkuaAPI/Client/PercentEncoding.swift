/// RFC 3986 percent-encoding of path segments and query components.
public enum PercentEncoding {
    /// Encodes every UTF-8 byte outside the unreserved set `A-Z a-z 0-9 - . _ ~` as `%XX` (upper-case hex).
    ///
    /// Stricter than URL path rules on purpose: `/`, `?`, `#`, `%`, `;`, `+`, `&` and `=` in an id can never
    /// change what the request addresses.
    public static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out.unicodeScalars.append(Unicode.Scalar(UInt8(ascii: "%")))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return out
    }

    /// A path segment: `encode(text)`, except that the dot segments `.` and `..` are fully encoded
    /// (`%2E`, `%2E%2E`) so no client, proxy or server can resolve them against the path.
    public static func segment(_ text: String) -> String {
        if text == "." || text == ".." { return String(repeating: "%2E", count: text.count) }
        return encode(text)
    }

    /// `name=value&name=value` with both sides encoded; items with a nil value are skipped.
    public static func query(_ items: [(name: String, value: String?)]) -> String {
        items.compactMap { item in item.value.map { "\(encode(item.name))=\(encode($0))" } }
            .joined(separator: "&")
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
