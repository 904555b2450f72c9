/// A machine as `GET /machines` returns it (`Machine` in the OpenAPI document).
///
/// Fields the schema requires are required here too; unknown fields are ignored and enum-like strings
/// (`state`, `identity_kind`, ...) are kept open so that a new value upstream does not break a listing.
public struct Machine: Sendable, Hashable, Codable {
    /// Machine id (1-54 characters), e.g. `mch_...`.
    public var id: String
    /// The owning workspace (`ws_...`).
    public var workspaceID: String
    /// The cluster the machine belongs to.
    public var clusterID: String
    /// The compute configuration (size/type) the machine was created from.
    public var computeConfigID: String
    /// Provider URI in canonical form, e.g. `compute://hcloud/server-1234`.
    public var providerID: String
    /// Provider-side identity and addresses.
    public var providerResource: ProviderResource
    /// Display name (optional in the schema).
    public var name: String?
    /// Kubernetes node name, when the machine has joined.
    public var nodeName: String?
    /// Lifecycle state (`ACTIVE`, `PROVISIONING`, ...).
    public var state: MachineLifecycleState
    /// True while the platform is reconciling the machine towards its desired configuration.
    public var reconciling: Bool
    /// Present while the machine is suspended.
    public var currentSuspension: Suspension?
    /// Unix seconds.
    public var createdAt: Int64
    /// Unix seconds.
    public var updatedAt: Int64
    /// Version tag of the machine resource.
    public var etag: String

    public init(
        id: String, workspaceID: String, clusterID: String, computeConfigID: String, providerID: String,
        providerResource: ProviderResource, name: String? = nil, nodeName: String? = nil,
        state: MachineLifecycleState, reconciling: Bool = false, currentSuspension: Suspension? = nil,
        createdAt: Int64, updatedAt: Int64, etag: String
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.clusterID = clusterID
        self.computeConfigID = computeConfigID
        self.providerID = providerID
        self.providerResource = providerResource
        self.name = name
        self.nodeName = nodeName
        self.state = state
        self.reconciling = reconciling
        self.currentSuspension = currentSuspension
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.etag = etag
    }

    enum CodingKeys: String, CodingKey {
        case id
        case workspaceID = "workspace_id"
        case clusterID = "cluster_id"
        case computeConfigID = "compute_config_id"
        case providerID = "provider_id"
        case providerResource = "provider_resource"
        case name
        case nodeName = "node_name"
        case state
        case reconciling
        case currentSuspension = "current_suspension"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case etag
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        workspaceID = try c.decode(String.self, forKey: .workspaceID)
        clusterID = try c.decode(String.self, forKey: .clusterID)
        computeConfigID = try c.decode(String.self, forKey: .computeConfigID)
        providerID = try c.decode(String.self, forKey: .providerID)
        providerResource = try c.decode(ProviderResource.self, forKey: .providerResource)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        // Required but nullable: null and absent are read the same way.
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName)
        state = try c.decode(MachineLifecycleState.self, forKey: .state)
        reconciling = try c.decode(Bool.self, forKey: .reconciling)
        currentSuspension = try c.decodeIfPresent(Suspension.self, forKey: .currentSuspension)
        createdAt = try c.decode(Int64.self, forKey: .createdAt)
        updatedAt = try c.decode(Int64.self, forKey: .updatedAt)
        etag = try c.decode(String.self, forKey: .etag)
        if id.isEmpty || id.unicodeScalars.count > 54 {
            throw DecodingError.dataCorruptedError(forKey: .id, in: c, debugDescription: "id must be 1-54 characters")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(workspaceID, forKey: .workspaceID)
        try c.encode(clusterID, forKey: .clusterID)
        try c.encode(computeConfigID, forKey: .computeConfigID)
        try c.encode(providerID, forKey: .providerID)
        try c.encode(providerResource, forKey: .providerResource)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encode(nodeName, forKey: .nodeName)
        try c.encode(state, forKey: .state)
        try c.encode(reconciling, forKey: .reconciling)
        try c.encodeIfPresent(currentSuspension, forKey: .currentSuspension)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(etag, forKey: .etag)
    }

    /// `provider_resource`: how the provider identifies the machine and its addresses.
    public struct ProviderResource: Sendable, Hashable, Codable {
        /// `recyclable` or `persistent` (kept open).
        public var identityKind: String
        /// The public IPv4 address, when it has one.
        public var publicIP: String?
        /// The floating IP bound to the machine (in the `full` view).
        public var floatingIP: FloatingIP?

        public init(identityKind: String, publicIP: String? = nil, floatingIP: FloatingIP? = nil) {
            self.identityKind = identityKind
            self.publicIP = publicIP
            self.floatingIP = floatingIP
        }

        enum CodingKeys: String, CodingKey {
            case identityKind = "identity_kind"
            case publicIP = "public_ip"
            case floatingIP = "floating_ip"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(identityKind, forKey: .identityKind)
            try c.encode(publicIP, forKey: .publicIP)
            try c.encodeIfPresent(floatingIP, forKey: .floatingIP)
        }
    }

    /// `provider_resource.floating_ip`.
    public struct FloatingIP: Sendable, Hashable, Codable {
        /// Floating IP id at the provider.
        public var id: String
        /// The address.
        public var ipv4: String

        public init(id: String, ipv4: String) {
            self.id = id
            self.ipv4 = ipv4
        }
    }

    /// `current_suspension`: present while the machine is suspended to a snapshot.
    public struct Suspension: Sendable, Hashable, Codable {
        /// The suspension event id.
        public var eventID: String
        /// The snapshot the machine was suspended to.
        public var snapshotRef: SnapshotRef
        /// Unix seconds.
        public var expiresAt: Int64
        /// Cost of keeping the snapshot, in cents per month.
        public var monthlyCostCents: Int64
        /// `manual` or `downgrade` (kept open).
        public var reason: String

        public init(eventID: String, snapshotRef: SnapshotRef, expiresAt: Int64, monthlyCostCents: Int64, reason: String) {
            self.eventID = eventID
            self.snapshotRef = snapshotRef
            self.expiresAt = expiresAt
            self.monthlyCostCents = monthlyCostCents
            self.reason = reason
        }

        enum CodingKeys: String, CodingKey {
            case eventID = "event_id"
            case snapshotRef = "snapshot_ref"
            case expiresAt = "expires_at"
            case monthlyCostCents = "monthly_cost_cents"
            case reason
        }
    }

    /// `current_suspension.snapshot_ref`.
    public struct SnapshotRef: Sendable, Hashable, Codable {
        /// `hcloud` (kept open).
        public var provider: String
        /// Snapshot id at the provider.
        public var snapshotID: Int64
        /// Snapshot size in GB.
        public var sizeGB: Double

        public init(provider: String, snapshotID: Int64, sizeGB: Double) {
            self.provider = provider
            self.snapshotID = snapshotID
            self.sizeGB = sizeGB
        }

        enum CodingKeys: String, CodingKey {
            case provider
            case snapshotID = "snapshot_id"
            case sizeGB = "size_gb"
        }
    }
}

/// A machine's lifecycle state (`ACTIVE`, `PROVISIONING`, ...); unknown values are preserved, not rejected.
public struct MachineLifecycleState: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The wire value, e.g. `ACTIVE`.
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public static let active = Self(rawValue: "ACTIVE")
    public static let provisioning = Self(rawValue: "PROVISIONING")
    public static let suspending = Self(rawValue: "SUSPENDING")
    public static let suspended = Self(rawValue: "SUSPENDED")
    public static let resuming = Self(rawValue: "RESUMING")
    public static let deleting = Self(rawValue: "DELETING")

    /// The values the API documents.
    public static let documented: [Self] = [.active, .provisioning, .suspending, .suspended, .resuming, .deleting]

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public var description: String { rawValue }
}
