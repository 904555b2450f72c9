import AkuaAPI
import DriftCore
import DriftDaemon

/// The Akua API under virtual time, written from the contract: each machine's true state is a timeline
/// of flips; a create with a new key makes a report of the truth at that instant (`created_at` now,
/// `expires_at` after the TTL, on the API's own clock); the same key replays the same report. Faults are
/// a pure function of the seed, the key and the attempt, so two replicas meet the same faults.
final class ScriptedAPI {
    struct Truth {
        var initial: ReportState
        /// API-clock ms at which the state flips, ascending.
        var flips: [Int64]
        var ttlMs: Int64
    }

    /// What goes wrong, and how often (per attempt).
    struct Faults {
        var rate = 0.0
        /// Outages: API-clock windows during which every create answers 503.
        var outages: [Range<Int64>] = []
        /// Windows during which every create answers 401 (a rotated token).
        var unauthorized: [Range<Int64>] = []
    }

    let seed: UInt64
    var truth: [String: Truth]
    var faults: Faults
    /// API clock minus local clock.
    var skewMs: Int64
    let timeoutMs: Int64
    private(set) var reportsByKey: [String: DriftReport] = [:]
    /// Keys that got a contract-breaking answer: a replay repeats it.
    private var stickyBad: [String: CheckResult] = [:]
    private(set) var createsByMachine: [String: Int] = [:]
    private var attemptsByKey: [String: Int] = [:]
    private var counter = 0

    init(seed: UInt64, truth: [String: Truth], faults: Faults, skewMs: Int64, timeoutMs: Int64) {
        self.seed = seed
        self.truth = truth
        self.faults = faults
        self.skewMs = skewMs
        self.timeoutMs = timeoutMs
    }

    func state(of machineID: String, atAPI time: Int64) -> ReportState {
        guard let truth = truth[machineID] else { return .inSync }
        var flipsBefore = 0
        for flip in truth.flips {
            if flip > time { break }
            flipsBefore += 1
        }
        return flipsBefore % 2 == 0 ? truth.initial : (truth.initial == .inSync ? .drifted : .inSync)
    }

    /// A deterministic unit number for (key, attempt, salt).
    private func unit(_ key: String, _ attempt: Int, _ salt: UInt64) -> Double {
        var mix = SplitMix64(seed: StableHash.fnv1a64(key) ^ seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(attempt) &* 0xBF58_476D_1CE4_E5B9 ^ salt)
        return Double(mix.next() >> 11) / Double(1 << 53)
    }

    /// Answers one create at local time `localNow`; returns the result and the latency (ms).
    func create(machineID: String, key: String, localNow: Int64) -> (result: CheckResult, latencyMs: Int64) {
        let apiNow = localNow + skewMs
        attemptsByKey[key, default: 0] += 1
        let attempt = attemptsByKey[key]!
        let latency = 5 + Int64(unit(key, attempt, 1) * 400)
        if faults.outages.contains(where: { $0.contains(apiNow) }) {
            return (.failure(.retryable(status: 503, retryAfter: nil, detail: nil)), latency)
        }
        if faults.unauthorized.contains(where: { $0.contains(apiNow) }) {
            return (.failure(.unauthorized(status: 401, detail: nil)), latency)
        }
        if let bad = stickyBad[key] { return (bad, latency) }
        if let report = reportsByKey[key] { return (.report(report, serverDateMs: apiNow - apiNow % 1000), latency) }
        if faults.rate > 0, unit(key, attempt, 2) < faults.rate {
            switch Int(unit(key, attempt, 3) * 6) {
            case 0: return (.failure(.timeout), timeoutMs)
            case 1: return (.failure(.transport("connection reset by peer")), latency)
            case 2: return (.failure(.retryable(status: 503, retryAfter: nil, detail: nil)), latency)
            case 3:
                let bad = CheckResult.failure(.invalidReport("invalid state \"exploded\""))
                stickyBad[key] = bad
                return (bad, latency)
            case 4:
                // A report that had expired before it arrived (seconds and milliseconds mixed up, say).
                counter += 1
                let created = apiNow / 1000
                let report = DriftReport(
                    id: "drr_bad\(counter)", machineID: machineID, state: state(of: machineID, atAPI: apiNow),
                    etag: "e", createdAt: created, startedAt: created, expiresAt: created - 1)
                let bad = CheckResult.report(report, serverDateMs: apiNow - apiNow % 1000)
                stickyBad[key] = bad
                return (bad, latency)
            default:
                return (.failure(.retryable(status: 429, retryAfter: .seconds(2), detail: nil)), latency)
            }
        }
        counter += 1
        createsByMachine[machineID, default: 0] += 1
        let created = (apiNow + latency / 2) / 1000
        let ttl = (truth[machineID]?.ttlMs ?? 900_000) / 1000
        var report = DriftReport(
            id: "drr_\(counter)", machineID: machineID, state: state(of: machineID, atAPI: apiNow + latency / 2),
            etag: "e\(counter)", createdAt: created, startedAt: created, expiresAt: created + ttl)
        if report.state == .drifted { report.delta = ["image": .string("v2")] }
        reportsByKey[key] = report
        return (.report(report, serverDateMs: apiNow - apiNow % 1000), latency)
    }
}
