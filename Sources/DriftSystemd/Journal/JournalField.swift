/// One `NAME=value` pair of a structured journal entry.
///
/// Names follow journald's rules (`A-Z`, `0-9`, `_`, at most 64 characters, not starting with a digit
/// or `_`); values are arbitrary text and may contain newlines (they are sent binary-safe).
public struct JournalField: Sendable, Hashable, CustomStringConvertible {
    /// The field name, e.g. `MESSAGE` or `DRIFT_MACHINE_ID`.
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a field. The name is used as given; `JournalWriter` sanitizes it before sending.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// `NAME=value`, the journal's own wire notation.
    public var description: String { "\(name)=\(value)" }

    /// Longest field name journald accepts.
    public static let maxNameLength = 64

    /// Turns an arbitrary key into a valid journal field name.
    ///
    /// Uppercases ASCII letters, replaces every other character outside `A-Z0-9_` by `_`,
    /// prefixes `X` to names starting with `_` (journald reserves those for trusted fields) and `X_`
    /// to names starting with a digit, and truncates to 64 characters. Valid names come back unchanged.
    public static func sanitizedName(_ key: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): bytes.append(byte - 32)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                bytes.append(byte)
            case 0x80...0xBF:
                // UTF-8 continuation byte: the multi-byte character already became one `_`.
                continue
            default: bytes.append(UInt8(ascii: "_"))
            }
        }
        if let first = bytes.first {
            if first == UInt8(ascii: "_") {
                bytes.insert(UInt8(ascii: "X"), at: 0)
            } else if first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") {
                bytes.insert(contentsOf: [UInt8(ascii: "X"), UInt8(ascii: "_")], at: 0)
            }
        } else {
            bytes = [UInt8(ascii: "X")]
        }
        if bytes.count > maxNameLength { bytes.removeLast(bytes.count - maxNameLength) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `name` is already a valid journal field name (what `sanitizedName` leaves unchanged).
    public static func isValidName(_ name: String) -> Bool {
        sanitizedName(name) == name
    }
}
