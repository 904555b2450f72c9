import Synchronization

/// The simulator's whole mutable state behind one mutex. Every operation is O(1) (amortised) except
/// listing and the stats snapshot, so the lock is held for microseconds even at thousands of requests/s.
final class SimulatorState: Sendable {
    /// Fault chosen for one `/v1` request.
    enum FaultOutcome: Sendable, Equatable {
        case none
        case drop
        case hang
        case rateLimit
        case error(status: Int)
        case failNext(status: Int)
        case malformed
        case missingState
        case unknownState
        case oversized

        var kind: String {
            switch self {
            case .none: "none"
            case .drop: "drop"
            case .hang: "hang"
            case .rateLimit: "rate_limit"
            case .error: "error"
            case .failNext: "fail_next"
            case .malformed: "malformed"
            case .missingState: "missing_state"
            case .unknownState: "unknown_state"
            case .oversized: "oversized"
            }
        }

        /// The body corruption this outcome stands for, if any.
        var bodyFault: BodyFault? {
            switch self {
            case .malformed: .malformed
            case .missingState: .missingState
            case .unknownState: .unknownState
            case .oversized: .oversized
            default: nil
            }
        }
    }

    /// What `begin` decided for a request.
    struct RequestPlan: Sendable {
        var latencyMs: Int
        var outcome: FaultOutcome
        var retryAfterSeconds: Int
        var retryAfterHTTPDate: Bool
        /// Body faults stick to the report they were drawn for.
        var stickyBadBody = false
        /// A report created by this request gets odd (optional omitted/null, unknown added) fields.
        var oddFields = false
        /// Answer drift report operations with this status (404/405/501).
        var driftOpsStatus: Int? = nil
        /// The `akua-context` every request must carry, when configured.
        var requiredContext: String? = nil
        /// Whether a create body must be sent as `application/json`.
        var strictContentType = true
    }

    enum CreateOutcome: Sendable {
        case created(StoredReport)
        case replayed(StoredReport)
        case conflict
        case unknownMachine
    }

    enum AdminError: Error, Sendable {
        case unknownMachine(String)
        case duplicateMachine(String)
        case invalid(String)
    }

    struct MachineRecord {
        var machine: SimulatedMachine
        var rng: SplitMix64
        var orderIndex: Int
        var createdAt: Int64
        var updatedAt: Int64
        /// Retained reports, oldest first; `reports[i]` has sequence number `reportBase + i`.
        var reports: [StoredReport] = []
        var reportBase: Int = 0
        /// The attributes a drifted report names from now on (`setDriftAttributes`); nil: seeded 1-4.
        var pinnedAttributes: [String]? = nil
    }

    struct KeyBinding {
        var machineID: String
        var trigger: String?
        var report: StoredReport
        var boundAt: Double
    }

    struct KeyRecord {
        var requests = 0
        var reports = 0
        var binding: KeyBinding?
    }

    struct Storage {
        var token: String
        var ttlSeconds: Int64
        var driftOpsStatus: Int?
        var requiredContext: String?
        var strictContentType: Bool
        var faults: SimulatorFaults
        var faultMachines: Set<String>?
        var failNextRemaining: Int
        var faultRNG: SplitMix64
        var reportCounter: UInt64 = 0
        var machines: [String: MachineRecord] = [:]
        /// Machine ids in list order; deleted slots are nil (O(1) delete, stable cursors).
        var order: [String?] = []
        /// report id -> (machine id, sequence number)
        var reportIndex: [String: (String, Int)] = [:]
        var keys: [String: KeyRecord] = [:]
        var reportsByMachine: [String: Int] = [:]
        var createsTotal = 0
        var requestsTotal = 0
        var conflictsTotal = 0
        var faultsByKind: [String: Int] = [:]
    }

    /// Start of the run on the unskewed clock (flip scenarios count from here).
    let startTime: Double
    let seed: UInt64
    /// Mixed into report ids: seed plus start time.
    let runSalt: UInt64
    /// The configured (unskewed) clock: machine scenarios and idempotency windows follow it.
    let clock: @Sendable () -> Double
    /// `clock_skew_seconds`, changeable at runtime.
    private let skewSeconds: Atomic<Int64>
    let reportHistoryLimit: Int
    let idempotencyTTLSeconds: Int64
    let workspaceID: String
    let storage: Mutex<Storage>

    init(options: SimulatorOptions) {
        let start = options.now()
        self.startTime = start
        self.seed = options.seed
        self.runSalt = SplitMix64.mix(options.seed ^ SplitMix64.mix(start.bitPattern))
        self.clock = options.now
        self.skewSeconds = Atomic(options.clockSkewSeconds)
        self.reportHistoryLimit = options.reportHistoryLimit
        self.idempotencyTTLSeconds = options.idempotencyTTLSeconds
        self.workspaceID = options.workspaceID
        var storage = Storage(
            token: options.token,
            ttlSeconds: options.ttlSeconds,
            driftOpsStatus: options.driftOpsStatus,
            requiredContext: options.requiredContext,
            strictContentType: options.strictContentType,
            faults: options.faults,
            faultMachines: options.faults.machineIDs.map(Set.init),
            failNextRemaining: options.faults.failNext,
            faultRNG: SplitMix64(seed: SplitMix64.mix(options.seed ^ 0xFA17_FA17))
        )
        storage.machines.reserveCapacity(options.machines.count)
        storage.order.reserveCapacity(options.machines.count)
        let createdAt = Int64((start + Double(options.clockSkewSeconds)).rounded(.down))
        for machine in options.machines {
            Self.insert(machine, into: &storage, createdAt: createdAt, seed: options.seed)
        }
        self.storage = Mutex(storage)
    }

    static func insert(_ machine: SimulatedMachine, into storage: inout Storage, createdAt: Int64, seed: UInt64) {
        let rngSeed: UInt64
        if case .random(let scenarioSeed, _) = machine.scenario {
            rngSeed = scenarioSeed
        } else {
            rngSeed = SplitMix64.stableHash(machine.id, salt: seed)
        }
        // Plausible history: machines were created some days before the simulator started.
        let age = Int64(SplitMix64.stableHash(machine.id) % (30 * 86_400)) + 3600
        storage.machines[machine.id] = MachineRecord(
            machine: machine,
            rng: SplitMix64(seed: rngSeed),
            orderIndex: storage.order.count,
            createdAt: createdAt - age,
            updatedAt: createdAt
        )
        storage.order.append(machine.id)
    }

    // MARK: - Clock

    /// The simulator's own clock (unix seconds with fraction): the configured clock plus the skew. The
    /// `Date` header and every timestamp the API renders use it.
    func now() -> Double {
        clock() + Double(skewSeconds.load(ordering: .relaxed))
    }

    func setClockSkew(seconds: Int64) {
        skewSeconds.store(seconds, ordering: .relaxed)
    }

    var clockSkew: Int64 { skewSeconds.load(ordering: .relaxed) }

    // MARK: - Request accounting and faults

    /// Counts a `/v1` request (and its idempotency key for drift report POSTs) and draws its fault.
    func begin(machineID: String?, isCreate: Bool, idempotencyKey: String?) -> RequestPlan {
        storage.withLock { s in
            s.requestsTotal += 1
            if isCreate, let key = idempotencyKey {
                s.keys[key, default: KeyRecord()].requests += 1
            }
            let faults = s.faults
            var plan = RequestPlan(
                latencyMs: 0, outcome: .none,
                retryAfterSeconds: faults.retryAfterSeconds, retryAfterHTTPDate: faults.retryAfterHTTPDate,
                stickyBadBody: faults.stickyBadBody, driftOpsStatus: s.driftOpsStatus,
                requiredContext: s.requiredContext, strictContentType: s.strictContentType
            )
            if faults.isNone && s.failNextRemaining == 0 { return plan }
            if let restricted = s.faultMachines {
                guard let machineID, restricted.contains(machineID) else { return plan }
            }
            plan.latencyMs = faults.latencyMs
            if isCreate, s.failNextRemaining > 0 {
                s.failNextRemaining -= 1
                plan.outcome = .failNext(status: faults.errorStatuses.first ?? 500)
                s.faultsByKind["fail_next", default: 0] += 1
                return plan
            }
            // Drawn on its own (and only when configured), so the fault ladder's draws stay as they were.
            if isCreate, faults.oddFieldsRate > 0 {
                plan.oddFields = s.faultRNG.nextUnit() < faults.oddFieldsRate
            }
            guard faults.randomRateTotal > 0 else { return plan }
            let u = s.faultRNG.nextUnit()
            var edge = 0.0
            let ladder: [(Double, FaultOutcome)] = [
                (faults.dropRate, .drop),
                (faults.hangRate, .hang),
                (faults.rateLimitRate, .rateLimit),
                (faults.errorRate, .error(status: 0)),
                (faults.malformedRate, .malformed),
                (faults.missingStateRate, .missingState),
                (faults.unknownStateRate, .unknownState),
                (faults.oversizedRate, .oversized),
            ]
            for (rate, outcome) in ladder where rate > 0 {
                edge += rate
                if u < edge {
                    if case .error = outcome {
                        let statuses = faults.errorStatuses
                        let pick = statuses.count == 1 ? 0 : Int(s.faultRNG.next() % UInt64(statuses.count))
                        plan.outcome = .error(status: statuses[pick])
                    } else {
                        plan.outcome = outcome
                    }
                    break
                }
            }
            // Body faults are only counted when actually applied (see `recordFault`).
            switch plan.outcome {
            case .drop, .hang, .rateLimit, .error:
                s.faultsByKind[plan.outcome.kind, default: 0] += 1
            default:
                break
            }
            return plan
        }
    }

    func recordFault(kind: String) {
        storage.withLock { s in s.faultsByKind[kind, default: 0] += 1 }
    }

    func tokenMatches(_ candidate: Substring) -> Bool {
        storage.withLock { s in s.token.utf8.elementsEqual(candidate.utf8) }
    }

    // MARK: - Machines

    func machine(id: String) -> MachineSnapshot? {
        storage.withLock { s in
            s.machines[id].map { snapshot(of: $0) }
        }
    }

    func snapshot(of record: MachineRecord) -> MachineSnapshot {
        MachineSnapshot(
            id: record.machine.id,
            name: record.machine.name,
            clusterID: record.machine.clusterID,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt,
            workspaceID: workspaceID
        )
    }

    /// One page of machines from list position `start`, optionally filtered by cluster.
    /// Returns the page and the position to continue from (nil on the last page).
    func listMachines(from start: Int, limit: Int, clusterID: String?) -> (page: [MachineSnapshot], next: Int?) {
        storage.withLock { s in
            var page: [MachineSnapshot] = []
            page.reserveCapacity(limit)
            var position = max(start, 0)
            while position < s.order.count {
                if let id = s.order[position], let record = s.machines[id],
                    clusterID == nil || record.machine.clusterID == clusterID
                {
                    if page.count == limit {
                        return (page, position)
                    }
                    page.append(snapshot(of: record))
                }
                position += 1
            }
            return (page, nil)
        }
    }

    func machineCount() -> Int {
        storage.withLock { s in s.machines.count }
    }

    func addMachine(_ machine: SimulatedMachine) throws(AdminError) {
        do {
            try SimulatorOptions.validate(machine: machine)
        } catch {
            throw .invalid(error.message)
        }
        let created = Int64(now().rounded(.down))
        let result: AdminError? = storage.withLock { s in
            if s.machines[machine.id] != nil { return .duplicateMachine(machine.id) }
            Self.insert(machine, into: &s, createdAt: created, seed: seed)
            s.machines[machine.id]?.createdAt = created
            return nil
        }
        if let result { throw result }
    }

    func deleteMachine(id: String) throws(AdminError) {
        let found = storage.withLock { s -> Bool in
            guard let record = s.machines.removeValue(forKey: id) else { return false }
            s.order[record.orderIndex] = nil
            for report in record.reports { s.reportIndex.removeValue(forKey: report.id) }
            return true
        }
        if !found { throw .unknownMachine(id) }
    }

    /// Pins a machine to `state` from now on.
    func setState(_ state: ReportStateName, machineID: String) throws(AdminError) {
        let updated = Int64(now().rounded(.down))
        let found = storage.withLock { s -> Bool in
            guard s.machines[machineID] != nil else { return false }
            s.machines[machineID]?.machine.scenario = .fixed(state)
            s.machines[machineID]?.updatedAt = updated
            return true
        }
        if !found { throw .unknownMachine(machineID) }
    }

    /// Pins the attributes a drifted report of `machineID` names from now on (nil: back to seeded).
    func setDriftAttributes(_ names: [String]?, machineID: String) throws(AdminError) {
        let found = storage.withLock { s -> Bool in
            guard s.machines[machineID] != nil else { return false }
            s.machines[machineID]?.pinnedAttributes = names.map { Array(Set($0)).sorted() }
            return true
        }
        if !found { throw .unknownMachine(machineID) }
    }

    // MARK: - Settings

    func setFaults(_ faults: SimulatorFaults) {
        storage.withLock { s in
            s.faults = faults
            s.faultMachines = faults.machineIDs.map(Set.init)
            s.failNextRemaining = faults.failNext
        }
    }

    /// Current faults, with `failNext` showing how many forced failures remain.
    func currentFaults() -> SimulatorFaults {
        storage.withLock { s in
            var faults = s.faults
            faults.failNext = s.failNextRemaining
            return faults
        }
    }

    func setToken(_ token: String) {
        storage.withLock { s in s.token = token }
    }

    func setTTL(seconds: Int64) {
        storage.withLock { s in s.ttlSeconds = seconds }
    }

    func setDriftOpsStatus(_ status: Int?) {
        storage.withLock { s in s.driftOpsStatus = status }
    }

    func setRequiredContext(_ context: String?) {
        storage.withLock { s in s.requiredContext = context }
    }

    func setStrictContentType(_ strict: Bool) {
        storage.withLock { s in s.strictContentType = strict }
    }
}
