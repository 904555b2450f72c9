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
    }

    /// What `begin` decided for a request.
    struct RequestPlan: Sendable {
        var latencyMs: Int
        var outcome: FaultOutcome
        var retryAfterSeconds: Int
        var retryAfterHTTPDate: Bool
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

    private struct MachineRecord {
        var machine: SimulatedMachine
        var rng: SplitMix64
        var orderIndex: Int
        var createdAt: Int64
        var updatedAt: Int64
        /// Retained reports, oldest first; `reports[i]` has sequence number `reportBase + i`.
        var reports: [StoredReport] = []
        var reportBase: Int = 0
    }

    private struct KeyBinding {
        var machineID: String
        var trigger: String?
        var report: StoredReport
        var boundAt: Double
    }

    private struct KeyRecord {
        var requests = 0
        var reports = 0
        var binding: KeyBinding?
    }

    private struct Storage {
        var token: String
        var ttlSeconds: Int64
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

    let startTime: Double
    let seed: UInt64
    /// Mixed into report ids: seed plus start time.
    let runSalt: UInt64
    let now: @Sendable () -> Double
    let reportHistoryLimit: Int
    let idempotencyTTLSeconds: Int64
    let workspaceID: String
    private let storage: Mutex<Storage>

    init(options: SimulatorOptions) {
        let start = options.now()
        self.startTime = start
        self.seed = options.seed
        self.runSalt = SplitMix64.mix(options.seed ^ SplitMix64.mix(start.bitPattern))
        self.now = options.now
        self.reportHistoryLimit = options.reportHistoryLimit
        self.idempotencyTTLSeconds = options.idempotencyTTLSeconds
        self.workspaceID = options.workspaceID
        var storage = Storage(
            token: options.token,
            ttlSeconds: options.ttlSeconds,
            faults: options.faults,
            faultMachines: options.faults.machineIDs.map(Set.init),
            failNextRemaining: options.faults.failNext,
            faultRNG: SplitMix64(seed: SplitMix64.mix(options.seed ^ 0xFA17_FA17))
        )
        storage.machines.reserveCapacity(options.machines.count)
        storage.order.reserveCapacity(options.machines.count)
        let createdAt = Int64(start.rounded(.down))
        for machine in options.machines {
            Self.insert(machine, into: &storage, createdAt: createdAt, seed: options.seed)
        }
        self.storage = Mutex(storage)
    }

    private static func insert(_ machine: SimulatedMachine, into storage: inout Storage, createdAt: Int64, seed: UInt64) {
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
                retryAfterSeconds: faults.retryAfterSeconds, retryAfterHTTPDate: faults.retryAfterHTTPDate
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

    func recordFault(_ outcome: FaultOutcome) {
        storage.withLock { s in s.faultsByKind[outcome.kind, default: 0] += 1 }
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

    private func snapshot(of record: MachineRecord) -> MachineSnapshot {
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

    // MARK: - Reports

    /// Creates a report (or replays / rejects per the idempotency key) atomically.
    func createReport(machineID: String, idempotencyKey: String?, trigger: String?) -> CreateOutcome {
        let nowValue = now()
        return storage.withLock { s in
            guard var record = s.machines[machineID] else { return .unknownMachine }
            if let key = idempotencyKey, let binding = s.keys[key]?.binding,
                nowValue - binding.boundAt < Double(idempotencyTTLSeconds)
            {
                if binding.machineID == machineID && binding.trigger == trigger {
                    return .replayed(binding.report)
                }
                s.conflictsTotal += 1
                return .conflict
            }
            // Avoid copy-on-write of the report array while the record is out of the dictionary.
            s.machines[machineID] = nil
            let state = Self.currentState(of: &record, now: nowValue, startTime: startTime)
            let report = makeReport(record: record, state: state, now: nowValue, storage: &s)
            record.reports.append(report)
            let sequence = record.reportBase + record.reports.count - 1
            s.reportIndex[report.id] = (machineID, sequence)
            if record.reports.count >= 2 * reportHistoryLimit {
                let dropCount = record.reports.count - reportHistoryLimit
                for old in record.reports[..<dropCount] { s.reportIndex.removeValue(forKey: old.id) }
                record.reports.removeFirst(dropCount)
                record.reportBase += dropCount
            }
            s.machines[machineID] = record
            s.createsTotal += 1
            s.reportsByMachine[machineID, default: 0] += 1
            if let key = idempotencyKey {
                s.keys[key, default: KeyRecord()].reports += 1
                s.keys[key]?.binding = KeyBinding(machineID: machineID, trigger: trigger, report: report, boundAt: nowValue)
            }
            return .created(report)
        }
    }

    private func makeReport(record: MachineRecord, state: ReportStateName, now: Double, storage s: inout Storage) -> StoredReport {
        let counter = s.reportCounter
        s.reportCounter &+= 1
        // Bijective in the counter (ids never collide within a run); the start time keeps ids of
        // separate runs apart (a daemon may keep its database across simulator restarts), while an
        // injected clock keeps them reproducible in tests.
        let unique = SplitMix64.mix(counter ^ runSalt)
        let created = Int64(now.rounded(.down))
        return StoredReport(
            id: "drf_" + ReportIDs.encode(unique: unique),
            machineID: record.machine.id,
            machineName: record.machine.name,
            state: state,
            etag: ReportIDs.hex16(SplitMix64.mix(unique ^ (state == .drifted ? 0xD1 : 0x51))),
            createdAt: created,
            startedAt: created,
            expiresAt: created + s.ttlSeconds,
            variant: SplitMix64.mix(unique ^ 0xDE17A)
        )
    }

    private static func currentState(of record: inout MachineRecord, now: Double, startTime: Double) -> ReportStateName {
        switch record.machine.scenario {
        case .fixed(let state):
            return state
        case .flip(let every, let first):
            let period = ((now - startTime) / every).rounded(.down)
            let odd = abs(period.truncatingRemainder(dividingBy: 2)) == 1
            return odd ? first.flipped : first
        case .random(_, let probability):
            return record.rng.nextUnit() < probability ? .drifted : .inSync
        }
    }

    enum ReportLookup: Sendable {
        case found(StoredReport)
        case unknownMachine
        case unknownReport
    }

    func report(machineID: String, reportID: String) -> ReportLookup {
        storage.withLock { s in
            guard let record = s.machines[machineID] else { return .unknownMachine }
            guard let (owner, sequence) = s.reportIndex[reportID], owner == machineID else { return .unknownReport }
            let index = sequence - record.reportBase
            guard index >= 0, index < record.reports.count else { return .unknownReport }
            return .found(record.reports[index])
        }
    }

    enum ReportPage: Sendable {
        case page([StoredReport], next: Int?)
        case unknownMachine
    }

    /// Newest-first page of a machine's reports starting at sequence number `before` (exclusive upper bound).
    func listReports(machineID: String, before: Int?, limit: Int, state: ReportStateName?) -> ReportPage {
        storage.withLock { s in
            guard let record = s.machines[machineID] else { return .unknownMachine }
            var page: [StoredReport] = []
            page.reserveCapacity(min(limit, record.reports.count))
            let end = record.reportBase + record.reports.count
            var sequence = min(before ?? end, end) - 1
            while sequence >= record.reportBase {
                let report = record.reports[sequence - record.reportBase]
                if state == nil || report.state == state {
                    if page.count == limit { return .page(page, next: sequence + 1) }
                    page.append(report)
                }
                sequence -= 1
            }
            return .page(page, next: nil)
        }
    }

    // MARK: - Stats

    func stats() -> SimulatorStats {
        storage.withLock { s in
            var requestsByKey: [String: Int] = [:]
            var reportsByKey: [String: Int] = [:]
            requestsByKey.reserveCapacity(s.keys.count)
            reportsByKey.reserveCapacity(s.keys.count)
            for (key, record) in s.keys {
                requestsByKey[key] = record.requests
                if record.reports > 0 { reportsByKey[key] = record.reports }
            }
            return SimulatorStats(
                createsTotal: s.createsTotal,
                requestsTotal: s.requestsTotal,
                reportsByMachine: s.reportsByMachine,
                requestsByKey: requestsByKey,
                reportsByKey: reportsByKey,
                conflictsTotal: s.conflictsTotal,
                faultsByKind: s.faultsByKind
            )
        }
    }
}

/// Report id, etag and cursor encodings.
enum ReportIDs {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// 24 lowercase base32 characters; the first 13 encode `unique` bijectively, so ids never collide.
    static func encode(unique: UInt64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        var value = unique
        for _ in 0..<13 {
            bytes.append(alphabet[Int(value & 31)])
            value >>= 5
        }
        var filler = SplitMix64.mix(unique ^ 0x5EED)
        for _ in 0..<11 {
            bytes.append(alphabet[Int(filler & 31)])
            filler >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hex16(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
