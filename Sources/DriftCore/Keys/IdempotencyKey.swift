/// Why a drift report is created: a scheduled interval slot, an expiry refresh, or a manual check.
public enum OccurrenceKind: String, Sendable, Hashable, Codable {
    case scheduled = "s"
    case refresh = "r"
    case manual = "m"
}

/// One planned check of one machine. Retrying it reuses its key; every other check gets a new key.
public struct Occurrence: Sendable, Hashable, Codable, CustomStringConvertible {
    public var kind: OccurrenceKind
    /// Unix milliseconds: the slot start, the refresh instant, or the manual request time.
    public var at: Int64

    public init(kind: OccurrenceKind, at: Int64) {
        self.kind = kind
        self.at = at
    }

    public var description: String { "\(kind.rawValue)@\(at)" }
}

/// The deterministic `idempotency-key` of a create.
///
/// `v1.<kind>.<unix ms>.<first 40 hex of SHA-256(machine id, kind, unix ms, trigger)>`: at most 59 characters
/// from `[a-z0-9.]`, whatever the machine id. Every input of the request body (the trigger) is an input of the
/// key, so replaying a key always sends the same body and never meets a 409.
///
/// The shape holds for every instant in `validTimes` (the epoch up to 13 decimal digits of milliseconds,
/// i.e. until 2286-11-20): `init?(validating:…)` rejects the others, and `init(machineID:occurrence:trigger:)`
/// clamps them into that range (a clock before 1970 or after 2286 is a broken clock, never a real occurrence).
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    /// The instants (unix ms) a key can name: 0 (1970-01-01) to 9,999,999,999,999 (2286-11-20T17:46:39.999Z),
    /// so `<unix ms>` has 1 to 13 digits and no sign, and a key has at most 3 + 1 + 1 + 13 + 1 + 40 = 59 characters.
    public static let validTimes: ClosedRange<Int64> = 0...9_999_999_999_999

    /// The longest key: `v1.` + kind + `.` + 13 digits + `.` + 40 hex digits.
    public static let maximumLength = 59

    /// The key for `occurrence`, or nil when its instant is outside `validTimes`.
    public init?(validating machineID: String, occurrence: Occurrence, trigger: String) {
        guard Self.validTimes.contains(occurrence.at) else { return nil }
        self.init(machineID: machineID, occurrence: occurrence, trigger: trigger)
    }

    /// The key for `occurrence`, its instant clamped into `validTimes` (never traps, never exceeds the shape).
    public init(machineID: String, occurrence: Occurrence, trigger: String) {
        let at = Self.clamped(occurrence.at)
        let hash = StableHash.sha256Hex(
            [machineID, occurrence.kind.rawValue, String(at), trigger], length: 40)
        value = "v1.\(occurrence.kind.rawValue).\(at).\(hash)"
    }

    /// `at` moved into `validTimes`.
    public static func clamped(_ at: Int64) -> Int64 { min(max(at, validTimes.lowerBound), validTimes.upperBound) }

    public var description: String { value }
}
