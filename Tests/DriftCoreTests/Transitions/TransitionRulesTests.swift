import DriftCore
import Foundation
import Testing

/// Builds a report that is valid until `expiresAt` (unix seconds).
func report(
    _ id: String = "rpt_1", machine: String = "mch_1", state: ReportState, createdAt: Int64 = 1_767_225_600,
    expiresAt: Int64 = 1_767_226_500, delta: [String: JSONValue]? = nil
) -> DriftReport {
    DriftReport(id: id, machineID: machine, state: state, etag: "\"e-\(id)\"", createdAt: createdAt, startedAt: createdAt,
                expiresAt: expiresAt, delta: delta)
}

@Suite("Transition rules")
struct TransitionRulesTests {
    /// In ms, a minute after the default report's creation (valid until +15m).
    let now: Int64 = 1_767_225_660_000

    // MARK: After a report

    @Test("the first valid report of a machine is a first observation, whatever its state", arguments: ReportState.allCases)
    func firstObservation(state: ReportState) throws {
        let transition = try #require(TransitionRules.afterReport(
            machineID: "mch_1", machineName: "web-1", current: .unknown, everObserved: false, report: report(state: state), now: now))
        #expect(transition.firstObservation)
        #expect(transition.previous == .unknown)
        #expect(transition.state == state.driftState)
        #expect(transition.cause == .report)
        #expect(transition.report?.id == "rpt_1")
        #expect(transition.at == now)
        #expect(transition.machineName == "web-1")
    }

    @Test("after the first observation, a change of state is a plain transition; no change is none")
    func laterReports() throws {
        let back = try #require(TransitionRules.afterReport(
            machineID: "mch_1", machineName: nil, current: .drifted, everObserved: true, report: report(state: .inSync), now: now))
        #expect(!back.firstObservation)
        #expect(back.previous == .drifted && back.state == .inSync)
        // Known again after an expiry: not a first observation.
        let again = try #require(TransitionRules.afterReport(
            machineID: "mch_1", machineName: nil, current: .unknown, everObserved: true, report: report(state: .drifted), now: now))
        #expect(!again.firstObservation)
        #expect(TransitionRules.afterReport(
            machineID: "mch_1", machineName: nil, current: .inSync, everObserved: true, report: report(state: .inSync), now: now) == nil)
        #expect(TransitionRules.afterReport(
            machineID: "mch_1", machineName: nil, current: .drifted, everObserved: true, report: report(state: .drifted), now: now) == nil)
    }

    @Test("a stale report (expires_at <= now) changes nothing", arguments: [0, -1, -3_600] as [Int64])
    func staleReport(secondsLeft: Int64) {
        let expiresAt = now / 1_000 + secondsLeft
        for current in DriftState.allCases {
            for everObserved in [false, true] {
                #expect(TransitionRules.afterReport(
                    machineID: "mch_1", machineName: nil, current: current, everObserved: everObserved,
                    report: report(state: current == .drifted ? .inSync : .drifted, expiresAt: expiresAt), now: now) == nil)
            }
        }
        // One millisecond of life left is still valid.
        #expect(TransitionRules.afterReport(
            machineID: "mch_1", machineName: nil, current: .unknown, everObserved: false,
            report: report(state: .drifted, expiresAt: now / 1_000 + 1), now: now / 1_000 * 1_000 + 999) != nil)
    }

    // MARK: Expiry and 404

    @Test("expiry turns a known state unknown (the caller judges the instant on the local clock); unknown stays")
    func expiry() throws {
        let latest = report(state: .drifted, expiresAt: now / 1_000)
        let transition = try #require(TransitionRules.afterExpiry(
            machineID: "mch_1", machineName: "web-1", current: .drifted, latest: latest, now: now))
        #expect(transition.previous == .drifted && transition.state == .unknown)
        #expect(transition.cause == .expired)
        #expect(!transition.firstObservation)
        #expect(transition.report == latest)
        // The API's expires_at is not compared with the local clock here: under skew the two disagree, and
        // the engine judges expiry from the report's lifetime since receipt.
        #expect(TransitionRules.afterExpiry(machineID: "mch_1", machineName: nil, current: .drifted, latest: latest, now: now - 3_600_000)?.state == .unknown)
        #expect(TransitionRules.afterExpiry(machineID: "mch_1", machineName: nil, current: .unknown, latest: latest, now: now) == nil)
        // The payload's report may be missing (not stored, or replaced): the expiry still counts.
        #expect(TransitionRules.afterExpiry(machineID: "mch_1", machineName: nil, current: .inSync, latest: nil, now: now)?.state == .unknown)
    }

    @Test("404 turns a known state unknown, with or without a latest report; unknown stays")
    func machineGone() throws {
        for current in [DriftState.inSync, .drifted] {
            let transition = try #require(TransitionRules.afterMachineGone(
                machineID: "mch_1", machineName: nil, current: current, latest: report(state: .inSync), now: now))
            #expect(transition.state == .unknown && transition.previous == current && transition.cause == .machineGone)
            #expect(TransitionRules.afterMachineGone(machineID: "mch_1", machineName: nil, current: current, latest: nil, now: now)?.report == nil)
        }
        #expect(TransitionRules.afterMachineGone(machineID: "mch_1", machineName: nil, current: .unknown, latest: nil, now: now) == nil)
    }

    // MARK: Event ids

    @Test("event ids are deterministic: pinned, independent of time, name and cause")
    func eventIDsDeterministic() throws {
        #expect(Transition.eventID(machineID: "mch_1", reportID: "rpt_1", previous: .unknown, state: .drifted)
            == "evt_a44737455c84f7750c4f412ebf57fd18")
        #expect(Transition.eventID(machineID: "mch_1", reportID: nil, previous: .inSync, state: .unknown)
            == "evt_2c89b57e415282d59e03d1dd2806f3c5")
        // Two replicas see the same report at different instants, with different names configured.
        let a = try #require(TransitionRules.afterReport(
            machineID: "mch_1", machineName: "web-1", current: .unknown, everObserved: false, report: report(state: .drifted), now: now))
        let b = try #require(TransitionRules.afterReport(
            machineID: "mch_1", machineName: "other", current: .unknown, everObserved: true, report: report(state: .drifted), now: now + 5_000))
        #expect(a.eventID == b.eventID)
        #expect(a.eventID == "evt_a44737455c84f7750c4f412ebf57fd18")
        #expect(a.eventID.hasPrefix("evt_") && a.eventID.count == 36)
    }

    @Test("event ids differ whenever machine, report, previous or new state differ")
    func eventIDsDistinct() {
        var seen: [String: String] = [:]
        for machine in ["mch_1", "mch_2", "mch_1 "] {
            for reportID in [nil, "rpt_1", "rpt_2"] as [String?] {
                for previous in DriftState.allCases {
                    for state in DriftState.allCases where state != previous {
                        let id = Transition.eventID(machineID: machine, reportID: reportID, previous: previous, state: state)
                        let inputs = "\(machine)|\(reportID ?? "-")|\(previous)|\(state)"
                        if let other = seen[id] { Issue.record("\(id) for both \(other) and \(inputs)") }
                        seen[id] = inputs
                    }
                }
            }
        }
        #expect(seen.count == 3 * 3 * 6)
    }

    // MARK: Webhook filter and messages

    @Test("isWanted: the subscribed states only; a first observation only when drifted")
    func isWanted() throws {
        let all = Set(DriftState.allCases)
        func transition(_ previous: DriftState, _ state: DriftState, first: Bool) -> Transition {
            Transition(machineID: "mch_1", machineName: nil, previous: previous, state: state, cause: .report,
                       report: nil, at: now, firstObservation: first)
        }
        #expect(transition(.unknown, .drifted, first: true).isWanted(by: all))
        #expect(!transition(.unknown, .inSync, first: true).isWanted(by: all))
        #expect(transition(.drifted, .inSync, first: false).isWanted(by: all))
        #expect(transition(.unknown, .inSync, first: false).isWanted(by: all))
        #expect(transition(.inSync, .unknown, first: false).isWanted(by: all))
        #expect(!transition(.inSync, .drifted, first: false).isWanted(by: [.inSync, .unknown]))
        #expect(!transition(.unknown, .drifted, first: true).isWanted(by: [.inSync]))
        #expect(!transition(.inSync, .unknown, first: false).isWanted(by: []))
    }

    @Test("journal messages name the machine, the new state and why")
    func messages() throws {
        let delta: [String: JSONValue] = ["labels": .object([:]), "cpu": .number(2), "image": .string("v2")]
        let drifted = try #require(TransitionRules.afterReport(
            machineID: "mch_x", machineName: "web-1", current: .inSync, everObserved: true,
            report: report(machine: "mch_x", state: .drifted, delta: delta), now: now))
        #expect(drifted.message == "machine web-1 (mch_x) drifted: 3 attributes differ (cpu, image, labels)")
        let one = try #require(TransitionRules.afterReport(
            machineID: "mch_x", machineName: nil, current: .unknown, everObserved: false,
            report: report(machine: "mch_x", state: .drifted, delta: ["cpu": .number(4)]), now: now))
        #expect(one.message == "machine mch_x drifted: 1 attribute differs (cpu)")
        let bare = try #require(TransitionRules.afterReport(
            machineID: "mch_x", machineName: "mch_x", current: .unknown, everObserved: false,
            report: report(machine: "mch_x", state: .drifted), now: now))
        #expect(bare.message == "machine mch_x drifted: no attribute detail in the report")

        let first = try #require(TransitionRules.afterReport(
            machineID: "mch_x", machineName: "", current: .unknown, everObserved: false, report: report(state: .inSync), now: now))
        #expect(first.message == "machine mch_x is in sync")
        let back = try #require(TransitionRules.afterReport(
            machineID: "mch_x", machineName: "web-1", current: .drifted, everObserved: true, report: report(state: .inSync), now: now))
        #expect(back.message == "machine web-1 (mch_x) is back in sync (was drifted)")

        let expired = try #require(TransitionRules.afterExpiry(
            machineID: "mch_x", machineName: "web-1", current: .inSync, latest: report(state: .inSync, expiresAt: 1), now: now))
        #expect(expired.message == "machine web-1 (mch_x) state unknown: its latest report expired without a fresh one (was in_sync)")
        let gone = try #require(TransitionRules.afterMachineGone(
            machineID: "mch_x", machineName: "web-1", current: .drifted, latest: nil, now: now))
        #expect(gone.message == "machine web-1 (mch_x) state unknown: the API no longer knows this machine (was drifted)")
    }

    @Test("a transition survives a JSON round trip (it is stored as JSON in the transition log)")
    func codableRoundTrip() throws {
        let transition = try #require(TransitionRules.afterReport(
            machineID: "mch_x", machineName: "web-1", current: .unknown, everObserved: false,
            report: report(state: .drifted, delta: ["cpu": .object(["desired": .number(2), "actual": .number(4)])]), now: now))
        let decoded = try JSONDecoder().decode(Transition.self, from: JSONEncoder().encode(transition))
        #expect(decoded == transition)
    }
}
