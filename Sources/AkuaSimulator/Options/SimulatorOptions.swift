#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything a simulator instance starts with. Every field has a default, so
/// `SimulatorOptions(token: "t", machines: [SimulatedMachine(id: "mch_a")])` is a complete setup.
public struct SimulatorOptions: Sendable {
    /// Bearer token accepted on `/v1` (rotatable at runtime).
    public var token: String
    /// Machines known at start, in list order.
    public var machines: [SimulatedMachine]
    /// Report lifetime: `expires_at = created_at + ttlSeconds`.
    public var ttlSeconds: Int64
    /// Seed for report ids, deltas and fault draws.
    public var seed: UInt64
    /// Initial fault injection.
    public var faults: SimulatorFaults
    /// Clock in unix seconds (with fraction). Injectable for tests (expiry, flip scenarios).
    public var now: @Sendable () -> Double
    /// Reports kept per machine for GET/list (older ones are forgotten; replays still work).
    public var reportHistoryLimit: Int
    /// How long an idempotency key is remembered (after that, reusing it creates a new report).
    public var idempotencyTTLSeconds: Int64
    /// The workspace every machine belongs to (`workspace_id`).
    public var workspaceID: String
    /// Seconds added to the simulator's clock (negative: behind). The `Date` header and every timestamp it
    /// renders (`created_at`, `started_at`, `expires_at`, machine times) use the skewed clock.
    public var clockSkewSeconds: Int64
    /// When set (404, 405 or 501), the three drift report operations answer this status with an
    /// `ApiErrorResponse` while `GET /machines/{id}` still answers 200: "operation unavailable".
    public var driftOpsStatus: Int?
    /// When set, every `/v1` request must carry exactly this `akua-context`; otherwise 403.
    public var requiredContext: String?
    /// Reject a drift report POST whose non-empty body is not sent as `application/json` (415).
    public var strictContentType: Bool

    public init(
        token: String = SimulatorOptions.defaultToken,
        machines: [SimulatedMachine] = [],
        ttlSeconds: Int64 = 900,
        seed: UInt64 = 1,
        faults: SimulatorFaults = .none,
        now: @escaping @Sendable () -> Double = SimulatorOptions.wallClock,
        reportHistoryLimit: Int = 1000,
        idempotencyTTLSeconds: Int64 = 86_400,
        workspaceID: String = "ws_sim_local",
        clockSkewSeconds: Int64 = 0,
        driftOpsStatus: Int? = nil,
        requiredContext: String? = nil,
        strictContentType: Bool = true
    ) {
        self.token = token
        self.machines = machines
        self.ttlSeconds = ttlSeconds
        self.seed = seed
        self.faults = faults
        self.now = now
        self.reportHistoryLimit = reportHistoryLimit
        self.idempotencyTTLSeconds = idempotencyTTLSeconds
        self.workspaceID = workspaceID
        self.clockSkewSeconds = clockSkewSeconds
        self.driftOpsStatus = driftOpsStatus
        self.requiredContext = requiredContext
        self.strictContentType = strictContentType
    }

    /// The statuses `driftOpsStatus` accepts.
    public static let driftOpsStatuses: Set<Int> = [404, 405, 501]

    /// Largest accepted clock skew either way: ten years, so skewed timestamps stay plausible.
    public static let maxClockSkewSeconds: Int64 = 10 * 366 * 86_400

    /// Token used when none is configured.
    public static let defaultToken = "sk_akua_sim_token"

    /// The real wall clock, unix seconds with fraction.
    public static let wallClock: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    /// Rejects impossible setups: bad or duplicate machine ids, empty token, non-positive TTL, bad faults.
    public func validate() throws(SimulatorConfigError) {
        guard !token.isEmpty else { throw SimulatorConfigError("token: must not be empty") }
        guard ttlSeconds > 0 else { throw SimulatorConfigError("ttl: must be positive") }
        guard reportHistoryLimit > 0 else { throw SimulatorConfigError("report history limit: must be positive") }
        var seen = Set<String>()
        seen.reserveCapacity(machines.count)
        for machine in machines {
            try Self.validate(machine: machine)
            guard seen.insert(machine.id).inserted else {
                throw SimulatorConfigError("machine \(machine.id): duplicate id")
            }
        }
        try faults.validate()
        try Self.validate(clockSkewSeconds: clockSkewSeconds)
        try Self.validate(driftOpsStatus: driftOpsStatus)
        try Self.validate(requiredContext: requiredContext)
    }

    static func validate(clockSkewSeconds: Int64) throws(SimulatorConfigError) {
        guard abs(clockSkewSeconds) <= maxClockSkewSeconds else {
            throw SimulatorConfigError("clock skew: must be within ±\(maxClockSkewSeconds) seconds")
        }
    }

    static func validate(driftOpsStatus: Int?) throws(SimulatorConfigError) {
        guard let driftOpsStatus else { return }
        guard driftOpsStatuses.contains(driftOpsStatus) else {
            throw SimulatorConfigError("drift ops status: must be 404, 405 or 501, got \(driftOpsStatus)")
        }
    }

    static func validate(requiredContext: String?) throws(SimulatorConfigError) {
        guard let requiredContext else { return }
        guard (1...53).contains(requiredContext.count) else {
            throw SimulatorConfigError("context: must be 1-53 characters")
        }
    }

    static func validate(machine: SimulatedMachine) throws(SimulatorConfigError) {
        guard (1...54).contains(machine.id.count) else {
            throw SimulatorConfigError("machine id \"\(machine.id)\": must be 1-54 characters")
        }
        guard !machine.id.contains("/"), !machine.id.contains("?"), !machine.id.contains("#") else {
            throw SimulatorConfigError("machine id \"\(machine.id)\": must not contain '/', '?' or '#'")
        }
        guard (1...54).contains(machine.clusterID.count) else {
            throw SimulatorConfigError("machine \(machine.id): cluster_id must be 1-54 characters")
        }
        switch machine.scenario {
        case .fixed: break
        case .flip(let every, _):
            guard every > 0, every.isFinite else {
                throw SimulatorConfigError("machine \(machine.id): flip_every_seconds must be positive")
            }
        case .random(_, let p):
            guard p >= 0, p <= 1 else { throw SimulatorConfigError("machine \(machine.id): random.p_drifted must be between 0 and 1") }
        }
    }

    /// Applies a scenario file (JSON):
    /// `{"ttl_seconds":900, "seed":1, "token":"...", "faults":{...}, "machines":[{"id":"mch_a","name":"web-1","state":"in_sync"},
    ///   {"id":"mch_b","flip_every_seconds":20,"state":"drifted"}, {"id":"mch_c","random":{"seed":3,"p_drifted":0.3}}],
    ///   "clock_skew_seconds":-30, "drift_ops_status":404, "context":"ws_x", "strict_content_type":true}`.
    /// Every top-level field is optional; machines are appended.
    public func applyingScenario(json: String) throws(SimulatorConfigError) -> SimulatorOptions {
        let value: ParsedJSON
        do {
            value = try JSONParser.parse(json)
        } catch {
            throw SimulatorConfigError("invalid JSON: \(error)")
        }
        let reader = try JSONObjectReader(value, context: "")
        try reader.rejectUnknown(allowed: [
            "ttl_seconds", "seed", "token", "faults", "machines", "clock_skew_seconds", "drift_ops_status", "context",
            "strict_content_type",
        ])
        var options = self
        if let ttl = try reader.int("ttl_seconds") {
            guard ttl > 0 else { throw SimulatorConfigError("ttl_seconds: must be positive") }
            options.ttlSeconds = ttl
        }
        if let seed = try reader.count("seed") { options.seed = UInt64(seed) }
        if let token = try reader.string("token") { options.token = token }
        if let skew = try reader.int("clock_skew_seconds") {
            do {
                try Self.validate(clockSkewSeconds: skew)
            } catch {
                throw SimulatorConfigError("clock_skew_seconds: must be within ±\(Self.maxClockSkewSeconds) seconds")
            }
            options.clockSkewSeconds = skew
        }
        if let status = try reader.int("drift_ops_status") {
            guard Self.driftOpsStatuses.contains(Int(status)) else {
                throw SimulatorConfigError("drift_ops_status: must be 404, 405 or 501, got \(status)")
            }
            options.driftOpsStatus = Int(status)
        }
        if let context = try reader.string("context") {
            guard (1...53).contains(context.count) else { throw SimulatorConfigError("context: must be 1-53 characters") }
            options.requiredContext = context
        }
        if let strict = try reader.bool("strict_content_type") { options.strictContentType = strict }
        if let faults = reader.members["faults"], faults != .null {
            options.faults = try SimulatorFaults.parse(faults, context: "faults", base: options.faults)
        }
        if let items = try reader.array("machines") {
            for (index, item) in items.enumerated() {
                options.machines.append(try Self.parseMachine(item, context: "machines[\(index)]"))
            }
        }
        return options
    }

    /// Parses one machine entry (scenario file and `POST /_sim/machines`).
    static func parseMachine(_ value: ParsedJSON, context: String) throws(SimulatorConfigError) -> SimulatedMachine {
        let reader = try JSONObjectReader(value, context: context)
        try reader.rejectUnknown(allowed: ["id", "name", "state", "cluster_id", "flip_every_seconds", "random"])
        guard let id = try reader.string("id") else { throw SimulatorConfigError("\(reader.path("id")): required") }
        var state = ReportStateName.inSync
        if let text = try reader.string("state") {
            guard let parsed = ReportStateName(rawValue: text) else {
                throw SimulatorConfigError("\(reader.path("state")): expected in_sync or drifted, got \"\(text)\"")
            }
            state = parsed
        }
        var scenario = MachineScenario.fixed(state)
        if let every = try reader.double("flip_every_seconds") {
            guard every > 0 else { throw SimulatorConfigError("\(reader.path("flip_every_seconds")): must be positive") }
            scenario = .flip(everySeconds: every, startingWith: state)
        }
        if let random = try reader.object("random") {
            guard case .fixed = scenario else {
                throw SimulatorConfigError("\(context): flip_every_seconds and random are mutually exclusive")
            }
            try random.rejectUnknown(allowed: ["seed", "p_drifted"])
            let seed = try random.count("seed") ?? 1
            let probability = try random.rate("p_drifted") ?? 0.5
            scenario = .random(seed: UInt64(seed), driftedProbability: probability)
        }
        let machine = SimulatedMachine(
            id: id,
            name: try reader.string("name"),
            scenario: scenario,
            clusterID: try reader.string("cluster_id") ?? SimulatedMachine.defaultClusterID
        )
        do {
            try validate(machine: machine)
        } catch {
            throw SimulatorConfigError("\(context): \(error.message)")
        }
        return machine
    }
}
