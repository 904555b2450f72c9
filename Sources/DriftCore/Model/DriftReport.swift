/// A drift report as the Akua API returns it (`DriftReport` in the OpenAPI document).
///
/// Decoding is strict about what the schema requires (id, machine_id, a valid `state`, etag and the
/// three timestamps) and ignores fields it does not know.
public struct DriftReport: Sendable, Hashable, Codable {
    public var id: String
    public var machineID: String
    public var state: ReportState
    public var etag: String
    /// Unix seconds.
    public var createdAt: Int64
    /// Unix seconds.
    public var startedAt: Int64
    /// Unix seconds; after this instant the report is stale.
    public var expiresAt: Int64
    public var delta: [String: JSONValue]?
    public var providerSnapshot: ProviderSnapshot?

    public init(
        id: String, machineID: String, state: ReportState, etag: String,
        createdAt: Int64, startedAt: Int64, expiresAt: Int64,
        delta: [String: JSONValue]? = nil, providerSnapshot: ProviderSnapshot? = nil
    ) {
        self.id = id
        self.machineID = machineID
        self.state = state
        self.etag = etag
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.expiresAt = expiresAt
        self.delta = delta
        self.providerSnapshot = providerSnapshot
    }

    enum CodingKeys: String, CodingKey {
        case id
        case machineID = "machine_id"
        case state
        case etag
        case createdAt = "created_at"
        case startedAt = "started_at"
        case expiresAt = "expires_at"
        case delta
        case providerSnapshot = "provider_snapshot"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        machineID = try c.decode(String.self, forKey: .machineID)
        state = try c.decode(ReportState.self, forKey: .state)
        etag = try c.decode(String.self, forKey: .etag)
        createdAt = try Self.decodeTimestamp(c, .createdAt)
        startedAt = try Self.decodeTimestamp(c, .startedAt)
        expiresAt = try Self.decodeTimestamp(c, .expiresAt)
        delta = try c.decodeIfPresent([String: JSONValue].self, forKey: .delta)
        providerSnapshot = try c.decodeIfPresent(ProviderSnapshot.self, forKey: .providerSnapshot)
        if machineID.isEmpty || machineID.unicodeScalars.count > 54 {
            throw DecodingError.dataCorruptedError(
                forKey: .machineID, in: c, debugDescription: "machine_id must be 1-54 characters")
        }
    }

    /// The latest timestamp accepted: 9999-12-31T23:59:59Z. Anything later is a unit mix-up (milliseconds
    /// or nanoseconds), and keeping every timestamp this small makes seconds→ms conversions overflow-free.
    public static let maxTimestamp: Int64 = 253_402_300_799

    private static func decodeTimestamp(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int64 {
        let value = try c.decode(Int64.self, forKey: key)
        guard value >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be >= 0")
        }
        guard value <= maxTimestamp else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c, debugDescription: "must be <= \(maxTimestamp) (year 9999)")
        }
        return value
    }

    /// The attributes that differ, sorted by name: the keys of `delta`.
    public var differingAttributes: [String] { (delta ?? [:]).keys.sorted() }
}

/// `provider_snapshot`: which provider the actual values came from, and its raw attributes.
public struct ProviderSnapshot: Sendable, Hashable, Codable {
    public var provider: String
    public var rawAttrs: [String: JSONValue]

    public init(provider: String, rawAttrs: [String: JSONValue]) {
        self.provider = provider
        self.rawAttrs = rawAttrs
    }

    enum CodingKeys: String, CodingKey {
        case provider
        case rawAttrs = "raw_attrs"
    }
}

extension ProviderSnapshot {
    /// The snapshot a parsed JSON object holds (`provider` a string, `raw_attrs` an object; other members
    /// ignored), or nil: the fast path's counterpart of the `Decodable` conformance.
    public init?(json: JSONValue?) {
        guard case .object(let members)? = json, case .string(let provider)? = members["provider"],
              case .object(let attrs)? = members["raw_attrs"] else { return nil }
        self.init(provider: provider, rawAttrs: attrs)
    }
}
