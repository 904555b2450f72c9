/// An arbitrary JSON value, for the free-form `delta` and `provider_snapshot.raw_attrs` objects.
///
/// Integers are kept exactly (`integer`, or `unsignedInteger` above `Int64.max`), so ids beyond 2^53
/// survive a decode/encode round trip digit for digit; only other numbers become `number(Double)`.
/// Equality and hashing compare numbers by value: `.integer(2) == .number(2.0)`.
public enum JSONValue: Sendable, Codable {
    case null
    case bool(Bool)
    /// A JSON integer that fits `Int64`, kept exactly.
    case integer(Int64)
    /// A JSON integer above `Int64.max` that fits `UInt64`, kept exactly.
    case unsignedInteger(UInt64)
    /// Any other JSON number (fractions, exponents, integers beyond 64 bits).
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsignedInteger(value)
        } else if let value = try? container.decode(Double.self) {
            // JSON has no infinity: a number too large for a Double could not be written back.
            guard value.isFinite else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "number out of range")
            }
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .unsignedInteger(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The object's members, or nil when this is not an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// True for the three number cases.
    public var isNumber: Bool {
        switch self {
        case .integer, .unsignedInteger, .number: true
        default: false
        }
    }

    /// A short human rendering (strings unquoted, integers exact, numbers without a trailing `.0`).
    public var displayText: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .integer(let value): return String(value)
        case .unsignedInteger(let value): return String(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .string(let value): return value
        case .array(let values): return "[" + values.map(\.displayText).joined(separator: ", ") + "]"
        case .object(let members):
            return "{" + members.keys.sorted().map { "\($0): \(members[$0]!.displayText)" }.joined(separator: ", ") + "}"
        }
    }
}

extension JSONValue: Hashable {
    /// A number reduced to one canonical form, so equal values compare and hash alike whatever their case.
    private enum NumberKey: Hashable {
        case signed(Int64)
        case unsigned(UInt64)
        case double(Double)
    }

    private var numberKey: NumberKey? {
        switch self {
        case .integer(let value): return .signed(value)
        case .unsignedInteger(let value): return value <= UInt64(Int64.max) ? .signed(Int64(value)) : .unsigned(value)
        case .number(let value):
            // Exactly integral values inside 64-bit range compare with the integer cases.
            if let exact = Int64(exactly: value) { return .signed(exact) }
            if let exact = UInt64(exactly: value) { return .unsigned(exact) }
            return .double(value)
        default: return nil
        }
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default:
            guard let a = lhs.numberKey, let b = rhs.numberKey else { return false }
            return a == b
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(1); hasher.combine(value)
        case .string(let value): hasher.combine(3); hasher.combine(value)
        case .array(let value): hasher.combine(4); hasher.combine(value)
        case .object(let value): hasher.combine(5); hasher.combine(value)
        case .integer, .unsignedInteger, .number:
            hasher.combine(2)
            hasher.combine(numberKey)
        }
    }
}
