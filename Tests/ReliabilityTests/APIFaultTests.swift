import AkuaAPI
import AkuaSimulator
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// One kind of API misbehaviour, injected through the simulator for one machine only.
enum APIFault: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case http500, http502, http503, rateLimitSeconds, rateLimitHTTPDate, connectionDrop, hang, latencyOverTimeout
    case malformedJSON, missingState, unknownState, oversizedBody

    var testDescription: String { rawValue }

    var faults: SimulatorFaults {
        switch self {
        case .http500: SimulatorFaults(errorRate: 1, errorStatuses: [500])
        case .http502: SimulatorFaults(errorRate: 1, errorStatuses: [502])
        case .http503: SimulatorFaults(errorRate: 1, errorStatuses: [503])
        case .rateLimitSeconds: SimulatorFaults(rateLimitRate: 1, retryAfterSeconds: 2)
        case .rateLimitHTTPDate: SimulatorFaults(rateLimitRate: 1, retryAfterSeconds: 3, retryAfterHTTPDate: true)
        case .connectionDrop: SimulatorFaults(dropRate: 1)
        case .hang: SimulatorFaults(hangRate: 1)
        case .latencyOverTimeout: SimulatorFaults(latencyMs: 1_500)
        case .malformedJSON: SimulatorFaults(malformedRate: 1)
        case .missingState: SimulatorFaults(missingStateRate: 1)
        case .unknownState: SimulatorFaults(unknownStateRate: 1)
        case .oversizedBody: SimulatorFaults(oversizedRate: 1)
        }
    }

    /// The smallest delay the server asked for (`Retry-After`), as the daemon computes it.
    var retryAfterFloorMs: Int64? {
        switch self {
        case .rateLimitSeconds: 2_000
        // An HTTP date has whole-second resolution: "now + 3 s" is at least 2 s away.
        case .rateLimitHTTPDate: 2_000
        default: nil
        }
    }

    /// What `last_error` must say.
    var errorText: String {
        switch self {
        case .http500: "HTTP 500"
        case .http502: "HTTP 502"
        case .http503: "HTTP 503"
        case .rateLimitSeconds, .rateLimitHTTPDate: "HTTP 429"
        case .connectionDrop: "cannot reach the Akua API"
        case .hang, .latencyOverTimeout: "did not answer in time"
        case .malformedJSON: "bad response from the Akua API"
        // A complete body that breaks the schema: an invalid report, not transport damage.
        case .missingState, .unknownState: "invalid report"
        case .oversizedBody: "larger than"
        }
    }

    var seedOffset: UInt64 { UInt64(Self.allCases.firstIndex(of: self)!) }

    /// A complete body that breaks the schema would come back identical: never retried with the same key.
    var isSchemaViolation: Bool { self == .missingState || self == .unknownState || self == .oversizedBody }

    /// A 429 with Retry-After is about the client, not the machine: it pauses the whole queue.
    var isFleetWide: Bool { retryAfterFloorMs != nil }
}

/// API faults through the simulator's fault injection, against the real engine (`DriftEngine` with a
/// real state file and a real `AkuaClient` over loopback): the daemon keeps running and checking the
/// other machines, backs off as specified, never sends two creates for one key at once, records
/// `last_error`, turns the machine `unknown` only once its last report expired, and recovers by itself.
@Suite("API faults (engine against the simulator)")
struct APIFaultTests {
    static let faulty = "mch_faulty"
    static let steady = ["mch_steady_a", "mch_steady_b"]
    static let faultyIntervalMs: Int64 = 3_000

    static func options(seed: UInt64) -> EngineHarness.Options {
        var options = EngineHarness.Options(
            simulated: [
                SimulatedMachine(id: faulty, name: "faulty", scenario: .fixed(.inSync)),
                SimulatedMachine(id: steady[0], name: "steady-a", scenario: .fixed(.drifted)),
                SimulatedMachine(id: steady[1], name: "steady-b", scenario: .flip(everySeconds: 2.5, startingWith: .inSync)),
            ],
            seed: seed)
        options.intervals = [faulty: faultyIntervalMs]
        return options
    }

    @Test("fault until the report expires, then recovery", arguments: APIFault.allCases)
    func faultThenRecovery(_ fault: APIFault) async throws {
        let seed = ReliabilitySeed.seed("API fault \(fault)", default: 0xFA00 + fault.seedOffset)
        try await EngineHarness.run(Self.options(seed: seed)) { h in
            try await h.waitUntilAllKnown()
            let before = h.control.stats()
            let faultStart = wallMs()
            var faults = fault.faults
            // A 429 with Retry-After limits the client, not one machine: every machine meets it.
            if !fault.isFleetWide { faults.machineIDs = [Self.faulty] }
            try h.control.setFaults(faults)

            try await eventually(timeout: .seconds(12), "\(Self.faulty) records a last_error") {
                try h.rows()[Self.faulty]?.last_error != nil
            }
            let failing = try #require(try h.rows()[Self.faulty])
            #expect(failing.consecutive_failures >= 1)
            let lastError = failing.last_error ?? ""
            #expect(lastError.contains(fault.errorText), "last_error \"\(lastError)\" should say \(fault.errorText)")
            #expect(!lastError.contains("\n"))

            // The fault outlives the report: the machine must turn unknown, but only once it expired.
            try await eventually(timeout: .seconds(15), "\(Self.faulty) turns unknown once its report expired") {
                try h.transitions(Self.faulty).last?.state == .unknown
            }
            try await Task.sleep(for: .milliseconds(1_500))
            let faultEnd = wallMs()
            let during = h.control.stats()
            try h.control.setFaults(.none)

            try await eventually(timeout: .seconds(15), "\(Self.faulty) recovers on its own") {
                guard let row = try h.rows()[Self.faulty] else { return false }
                return row.state == "in_sync" && row.last_error == nil && row.consecutive_failures == 0
            }
            try Self.verify(h, faultStart: faultStart, faultEnd: faultEnd, before: before, during: during,
                            retryAfterFloorMs: fault.retryAfterFloorMs, fleetWide: fault.isFleetWide,
                            notRetried: fault.isSchemaViolation)
        }
    }

    /// The checks shared by every fault.
    static func verify(
        _ h: EngineHarness, faultStart: Int64, faultEnd: Int64, before: SimulatorStats, during: SimulatorStats,
        retryAfterFloorMs: Int64?, failingMachines: [String] = [faulty], backoffResetAt: Int64 = .max, fleetWide: Bool = false,
        notRetried: Bool = false
    ) throws {
        // Keeps checking the other machines, which stay healthy (a fleet-wide pause holds them too, by design).
        let seconds = Double(faultEnd - faultStart) / 1000
        for id in Self.steady where !failingMachines.contains(id) && !fleetWide {
            let made = (during.reportsByMachine[id] ?? 0) - (before.reportsByMachine[id] ?? 0)
            #expect(Double(made) >= seconds / 2, "\(id): only \(made) reports in \(seconds)s of the other machine's fault")
            #expect(try h.rows()[id]?.last_error == nil)
            #expect(try h.transitions(id).allSatisfy { $0.state != .unknown }, "\(id) turned unknown")
        }
        // Backs off: each attempt waits at least the documented minimum after the previous failure.
        for id in failingMachines {
            let calls = h.recorder.calls(of: id).sorted { $0.startMs < $1.startMs }
            var attemptsOfKey: [String: Int] = [:]
            var attempts: [Int] = []
            for call in calls {
                attemptsOfKey[call.key, default: 0] += 1
                attempts.append(attemptsOfKey[call.key]!)
            }
            var failures = 0
            var gaps: [String] = []
            let interval = h.settings.machines.first { $0.id == id }!.intervalMs
            for index in calls.indices.dropLast() where !calls[index].succeeded && calls[index].endMs >= faultStart
                && calls[index + 1].startMs < backoffResetAt {
                failures += 1
                let next = calls[index + 1]
                if notRetried {
                    // Not a retry: the next request is the next occurrence, with its own key.
                    #expect(next.key != calls[index].key, "\(id): a contract-breaking body was retried with the same key")
                    continue
                }
                let minimum = Self.minimumDelay(h, afterAttempt: attempts[index], intervalMs: interval, retryAfterMs: retryAfterFloorMs)
                let gap = next.startMs - calls[index].endMs
                gaps.append("\(gap)≥\(minimum)")
                #expect(gap >= minimum - 5, "\(id): attempt \(attempts[index] + 1) came \(gap) ms after a failure; the backoff allows no less than \(minimum) ms")
            }
            let inWindow = calls.filter { $0.startMs >= faultStart && $0.startMs <= faultEnd }
            print("[reliability] \(id): \(inWindow.count) requests over \(Set(inWindow.map(\.key)).count) keys in \(faultEnd - faultStart) ms of fault (\(failures) failures; gaps after failures in ms, observed≥allowed: \(gaps.joined(separator: " ")))")
            // A fleet-wide pause lets one probe through at a time, spread over the machines: counted by the caller.
            if !fleetWide { #expect(failures >= 2, "\(id): the fault produced only \(failures) failed attempts") }
        }
        // Never two creates for one key (or one machine) at a time; never two reports for one key, never a 409.
        #expect(h.recorder.maxActivePerKey == 1)
        #expect(h.recorder.maxActivePerMachine == 1)
        let stats = h.control.stats()
        #expect(stats.reportsByKey.values.allSatisfy { $0 == 1 }, "an idempotency key created two reports")
        #expect(stats.conflictsTotal == 0)
        // unknown only once the latest report had expired (never while it was valid).
        for id in failingMachines {
            let transitions = try h.transitions(id)
            let unknowns = transitions.filter { $0.state == .unknown }
            #expect(!unknowns.isEmpty)
            for transition in unknowns {
                #expect(transition.cause == .expired)
                let report = try #require(transition.report)
                #expect(transition.at >= report.expiresAt * 1000, "\(id) turned unknown at \(transition.at), before its report expired at \(report.expiresAt)")
                let lastGood = h.recorder.calls(of: id).filter { $0.succeeded && $0.endMs <= transition.at }.last?.report
                #expect(report.id == lastGood?.id, "the unknown transition should carry the latest report")
            }
            // README: one clear warning per failure streak (401 included), not one per attempt. Each test
            // has exactly one streak per failing machine.
            // A fleet-wide condition (401/403, 429 with Retry-After) is one warning for the fleet, no machine's.
            let warnings = h.logs.records.filter {
                $0.level >= .warning && (fleetWide
                    ? $0.metadata["message_id"] == "\(JournalMessageID.fleetPaused)"
                    : $0.metadata["drift_machine_id"] == id
                        && ($0.message.hasPrefix("check of machine") || $0.message.hasPrefix("the Akua API returned an unusable report")))
            }
            let failures = h.recorder.calls(of: id).filter { !$0.succeeded }.count
            #expect(warnings.count == 1, "\(warnings.count) warnings for one failure streak of \(id) (\(failures) failures): \(warnings.map(\.message))")
            #expect(h.logs.records.contains { $0.message.contains("checks recovered after") && $0.metadata["drift_machine_id"] == id })
        }
    }

    /// The occurrence an idempotency key names: `v1.<kind>.<unix ms>.<hash>`.
    static func occurrence(ofKey key: String) -> Occurrence? {
        let parts = key.split(separator: ".")
        guard parts.count == 4, parts[0] == "v1", let kind = OccurrenceKind(rawValue: String(parts[1])),
              let at = Int64(parts[2]) else { return nil }
        return Occurrence(kind: kind, at: at)
    }

    /// The smallest delay the README allows after failed attempt `attempt` of one occurrence: from the
    /// documented table (`DocumentedBackoff`, pinned to the default by DefaultBackoffScheduleTests), never
    /// from the implementation. The harness runs the default backoff.
    static func minimumDelay(_ h: EngineHarness, afterAttempt attempt: Int, intervalMs: Int64, retryAfterMs: Int64?) -> Int64 {
        DocumentedBackoff.minimumMs(afterAttempt: attempt, intervalMs: intervalMs, retryAfterMs: retryAfterMs)
    }

    @Test("latency spikes below the timeout: no error, no retry, no duplicate")
    func latencyBelowTimeout() async throws {
        let seed = ReliabilitySeed.seed("API latency spike", default: 0xFA40)
        var options = Self.options(seed: seed)
        options.timeout = .seconds(3)
        try await EngineHarness.run(options) { h in
            try await h.waitUntilAllKnown()
            try h.control.setFaults(SimulatorFaults(latencyMs: 800))
            let start = wallMs()
            // At least 4 slow checks (bounded), with no error at any moment meanwhile.
            func slow() -> Int { h.recorder.calls.filter { $0.startMs >= start && $0.endMs - $0.startMs >= 750 }.count }
            while slow() < 4, wallMs() - start < 20_000 {
                let rows = try h.rows()
                #expect(rows.values.allSatisfy { $0.last_error == nil && $0.state != "unknown" }, "\(rows.values.map { "\($0.machine_id): \($0.last_error ?? "-")" })")
                try await Task.sleep(for: .milliseconds(250))
            }
            try h.control.setFaults(.none)
            #expect(slow() >= 4, "the latency fault did not slow the checks down")
            #expect(h.recorder.calls.allSatisfy { $0.succeeded })
            #expect(h.control.stats().requestsByKey.values.allSatisfy { $0 == 1 }, "a key was sent twice without a failure")
            #expect(h.recorder.maxActivePerKey == 1)
        }
    }

    @Test("401 after a token rotation: backs off, errors once, recovers on reload with the new token")
    func tokenRotation() async throws {
        let seed = ReliabilitySeed.seed("API 401 after token rotation", default: 0xFA41)
        try await EngineHarness.run(Self.options(seed: seed)) { h in
            try await h.waitUntilAllKnown()
            let before = h.control.stats()
            let rotated = "sk_akua_rotated_" + String(seed, radix: 36)
            let faultStart = wallMs()
            h.control.setToken(rotated)
            // One probe at a time, the pause doubling after each 401 (about 0.5, 1.5, 3.5, 7.5 and 15.5 s after
            // the first): which machine a probe takes depends on where the rotation fell in their slots and
            // refreshes, and with three machines the last may come only with the fifth probe.
            try await eventually(timeout: .seconds(20), "every machine records the 401") {
                try h.rows().values.allSatisfy { $0.last_error?.contains("HTTP 401") == true }
            }
            // Past the report lifetime: unknown, but only after expiry.
            try await eventually(timeout: .seconds(15), "the machines turn unknown once their reports expired") {
                try h.rows().values.allSatisfy { $0.state == "unknown" }
            }
            let faultEnd = wallMs()
            let during = h.control.stats()
            let machines = [Self.faulty] + Self.steady
            // A 401 is fleet-wide: the whole queue pauses (one probe at a time) and the operator is told once
            // per streak (README: "the streak is logged once", MESSAGE_ID fleet paused), however many fail.
            let errors = h.logs.records.filter { $0.metadata["message_id"] == "\(JournalMessageID.fleetPaused)" }
            let failures = machines.map { id in h.recorder.calls(of: id).filter { !$0.succeeded && $0.endMs >= faultStart }.count }.reduce(0, +)
            #expect(failures >= 3, "only \(failures) failed attempts: too few to tell one error per streak from one per attempt")
            #expect(errors.count == 1, "\(errors.count) operator errors for one streak of \(failures) failures")
            #expect(errors.allSatisfy { $0.level == .error })
            // Once the pause began (the first 401 came back), at most one request runs at a time.
            let pauseStart = machines.flatMap { h.recorder.calls(of: $0) }.filter { !$0.succeeded && $0.endMs >= faultStart }.map(\.endMs).min() ?? faultStart
            let during401 = machines.flatMap { h.recorder.calls(of: $0) }.filter { !$0.succeeded && $0.startMs >= pauseStart }.sorted { $0.startMs < $1.startMs }
            for (a, b) in zip(during401, during401.dropFirst()) {
                #expect(b.startMs >= a.endMs - 5, "two requests overlapped during the fleet-wide pause")
            }
            // A reload with the new token (what SIGHUP does after the token file changed) resets the backoff.
            let reloadAt = wallMs()
            try h.engine.reload(settings: h.settings, source: try h.makeSource(token: rotated))
            try await eventually(timeout: .seconds(10), "every machine recovers after the reload") {
                try h.rows().values.allSatisfy { $0.last_error == nil && $0.state != "unknown" }
            }
            for id in machines {
                let firstGood = h.recorder.calls(of: id).first { $0.succeeded && $0.startMs >= reloadAt }
                let delay = (firstGood?.startMs ?? .max) - reloadAt
                #expect(delay <= 2_500, "\(id) waited \(delay) ms after the reload")
            }
            try Self.verify(h, faultStart: faultStart, faultEnd: faultEnd, before: before, during: during,
                            retryAfterFloorMs: nil, failingMachines: machines, backoffResetAt: reloadAt, fleetWide: true)
        }
    }

    @Test("404 after the machine was deleted: unknown at once, no retries, others unaffected, back when it returns")
    func machineDeleted() async throws {
        let seed = ReliabilitySeed.seed("API 404 after deletion", default: 0xFA42)
        try await EngineHarness.run(Self.options(seed: seed)) { h in
            try await h.waitUntilAllKnown()
            let before = h.control.stats()
            let deletedAt = wallMs()
            try h.control.deleteMachine(id: Self.faulty)
            try await eventually(timeout: .seconds(8), "\(Self.faulty) turns unknown after the 404") {
                try h.transitions(Self.faulty).last?.state == .unknown
            }
            let gone = try #require(try h.transitions(Self.faulty).last)
            #expect(gone.cause == .machineGone)
            #expect(gone.at >= deletedAt && gone.at <= deletedAt + Self.faultyIntervalMs + 2_000)
            let row = try #require(try h.rows()[Self.faulty])
            #expect(row.last_error?.contains("HTTP 404") == true, "last_error: \(row.last_error ?? "nil")")
            #expect(h.logs.records.contains { $0.level == .error && $0.metadata["message_id"] == JournalMessageID.checkFailing && $0.metadata["drift_machine_id"] == Self.faulty })
            // Two more slots: a 404 is not retried, the next slot tries again with a new key.
            try await Task.sleep(for: .milliseconds(2 * Self.faultyIntervalMs))
            let restoredAt = wallMs()
            let during = h.control.stats()
            let failed = h.recorder.calls(of: Self.faulty).filter { $0.startMs >= deletedAt && $0.startMs < restoredAt }
            #expect(failed.count >= 2 && failed.allSatisfy { !$0.succeeded })
            #expect(Set(failed.map(\.key)).count == failed.count, "a 404 was retried with the same key")
            // At most one create per slot (plus a refresh that was already due): never a retry loop.
            let occurrences = failed.compactMap { Self.occurrence(ofKey: $0.key) }
            #expect(occurrences.count == failed.count)
            let scheduled = occurrences.filter { $0.kind == .scheduled }.map(\.at)
            #expect(Set(scheduled).count == scheduled.count)
            for (a, b) in zip(scheduled, scheduled.dropFirst()) { #expect(b - a >= Self.faultyIntervalMs) }
            let window = restoredAt - deletedAt
            #expect(Int64(failed.count) <= window / Self.faultyIntervalMs + 2, "\(failed.count) creates in \(window) ms for a deleted machine")
            for id in Self.steady {
                let made = (during.reportsByMachine[id] ?? 0) - (before.reportsByMachine[id] ?? 0)
                #expect(made >= 3, "\(id): \(made) reports while \(Self.faulty) was gone")
            }
            try h.control.addMachine(SimulatedMachine(id: Self.faulty, name: "faulty", scenario: .fixed(.drifted)))
            try await eventually(timeout: .seconds(10), "\(Self.faulty) is back once it exists again") {
                try h.rows()[Self.faulty]?.state == "drifted"
            }
            #expect(try h.rows()[Self.faulty]?.last_error == nil)
            #expect(h.control.stats().reportsByKey.values.allSatisfy { $0 == 1 })
            #expect(h.recorder.maxActivePerKey == 1)
        }
    }

    @Test("404 from an unavailable drift operation is one fleet-wide error, not gone machines; confirmed once per interval")
    func operationUnavailable() async throws {
        let seed = ReliabilitySeed.seed("API drift operation unavailable", default: 0xFA44)
        try await EngineHarness.run(Self.options(seed: seed)) { h in
            try await h.waitUntilAllKnown()
            let start = wallMs()
            try h.control.setDriftOpsStatus(404)
            try await eventually(timeout: .seconds(10), "the operator error is logged") {
                h.logs.records.contains { $0.metadata["message_id"] == "\(JournalMessageID.apiOperationUnavailable)" }
            }
            // Past every report's lifetime: the machines turn unknown by expiry, never as "gone".
            try await eventually(timeout: .seconds(20), "the machines turn unknown once their reports expired") {
                try h.rows().values.allSatisfy { $0.state == "unknown" }
            }
            let end = wallMs()
            for id in [Self.faulty] + Self.steady {
                let after = try h.transitions(id).filter { $0.at >= start }
                #expect(!after.contains { $0.cause == .machineGone }, "\(id) was announced gone: \(after.map(\.cause))")
                // A flipping machine may still change by report before its check meets the 404; every unknown is an expiry.
                #expect(after.filter { $0.state == .unknown }.allSatisfy { $0.cause == .expired })
                #expect(after.contains { $0.state == .unknown })
            }
            let errors = h.logs.records.filter { $0.metadata["message_id"] == "\(JournalMessageID.apiOperationUnavailable)" }
            #expect(errors.count == 1, "\(errors.count) operator errors for one condition")
            // A 404 is confirmed with GET /machines/{id}, but once per interval for the fleet, not per create.
            let failed = ([Self.faulty] + Self.steady).flatMap { h.recorder.calls(of: $0) }.filter { !$0.succeeded && $0.startMs >= start }.count
            let confirmations = h.recorder.confirmations.load(ordering: .relaxed)
            #expect(confirmations >= 1)
            #expect(confirmations * 2 <= failed + 2, "\(confirmations) confirmations for \(failed) failed creates in \(end - start) ms")
            try h.control.setDriftOpsStatus(nil)
            try await eventually(timeout: .seconds(15), "every machine is known again once the operation is back") {
                try h.rows().values.allSatisfy { $0.state != "unknown" && $0.last_error == nil }
            }
        }
    }

    @Test("a new token in the token file plus a reload (the SIGHUP path) recovers from 401")
    func tokenFileReload() async throws {
        let seed = ReliabilitySeed.seed("API 401 token file reload", default: 0xFA43)
        let dir = try TemporaryDirectory("akua-reliability-reload")
        let token = "sk_akua_before_" + String(seed, radix: 36)
        let rotated = "sk_akua_after_" + String(seed, radix: 36)
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: token, machines: [SimulatedMachine(id: "mch_r1"), SimulatedMachine(id: "mch_r2", scenario: .fixed(.drifted))],
            ttlSeconds: 30, seed: seed))
        let tokenFile = try dir.write("token", token)
        let statePath = dir.file("state.sqlite")
        let config = try dir.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            timeout = "1s"
            [schedule]
            interval = "1s"
            catch_up_window = "200ms"
            [state]
            path = "\(statePath)"
            [[machine]]
            id = "mch_r1"
            [[machine]]
            id = "mch_r2"
            """)
        let logs = LogCapture()
        let service = DaemonService(configPath: config, environment: [:], logger: logs.logger())
        func rows() throws -> [StatusReport.Row] {
            guard FileManager.default.fileExists(atPath: statePath) else { return [] }
            return StatusReport.rows(try AppDatabase.openReadOnly(path: statePath).machines())
        }
        try await withRunningService(service, cleanup: { await simulator.shutdown() }) {
            try await eventually(timeout: .seconds(15), "both machines are known") {
                let rows = try rows()
                return rows.count == 2 && rows.allSatisfy { $0.state != "unknown" }
            }
            simulator.control.setToken(rotated)
            try await eventually(timeout: .seconds(10), "the 401 is recorded") {
                try rows().allSatisfy { $0.last_error?.contains("HTTP 401") == true }
            }
            _ = try dir.write("token", rotated + "\n")
            let reloadAt = wallMs()
            await service.reload()
            try await eventually(timeout: .seconds(10), "both machines recover after the reload") {
                try rows().allSatisfy { $0.last_error == nil && $0.state != "unknown" }
            }
            #expect(wallMs() - reloadAt < 5_000)
            #expect(logs.contains(.notice, "reloaded"))
            #expect(simulator.control.stats().reportsByKey.values.allSatisfy { $0 == 1 })
        }
    }
}
