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
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init(machineID: String, occurrence: Occurrence, trigger: String) {
        let hash = StableHash.sha256Hex(
            [machineID, occurrence.kind.rawValue, String(occurrence.at), trigger], length: 40)
        value = "v1.\(occurrence.kind.rawValue).\(occurrence.at).\(hash)"
    }

    public var description: String { value }
}
