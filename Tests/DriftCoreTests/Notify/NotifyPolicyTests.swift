import DriftCore
import Testing

/// The notification policy as a pure function over a fake clock. Expected ids are computed independently
/// (Python hashlib: "evt_" + sha256 of the parts joined by NUL, first 32 hex digits), per the shared design.
@Suite("Notify policy")
struct NotifyPolicyTests {
    typealias R = PolicyRun
    /// The transition in_sync → drifted of rpt_1 on mch_1.
    static let driftedID = "evt_921c7653d39b85275a758d660b38d1a0"

    @Test("default rules: every change is sent at once under the transition's own id")
    func immediate() {
        var run = R(rules: NotifyRules())
        #expect(run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"]).map(\.eventID) == [Self.driftedID])
        #expect(run.report("rpt_2", .drifted, at: R.seconds(60), attributes: ["cpu"]).isEmpty)
        let back = run.report("rpt_3", .inSync, at: R.seconds(120))
        #expect(back.map(\.eventID) == [Transition.eventID(machineID: "mch_1", reportID: "rpt_3", previous: .drifted, state: .inSync)])
        #expect(run.lastDeadline == nil)
    }

    @Test("confirm = 2: announced on the second agreeing report, with the id of the transition that began it")
    func confirmReports() throws {
        var run = R(rules: NotifyRules(confirmReports: 2))
        #expect(run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"]).isEmpty)
        #expect(run.track.pending?.state == .drifted)
        let sent = run.report("rpt_2", .drifted, at: R.seconds(60), attributes: ["cpu"])
        #expect(sent.map(\.eventID) == [Self.driftedID])
        let transition = try #require(sent.first?.transition)
        #expect(transition.report?.id == "rpt_1" && transition.previous == .inSync && transition.state == .drifted)
        #expect(run.track.pending == nil && run.track.announced == .drifted)
        #expect(run.report("rpt_3", .drifted, at: R.seconds(120), attributes: ["cpu"]).isEmpty)
    }

    @Test("flapping inside the window announces nothing; coming back cancels the pending state")
    func flapping() {
        var run = R(rules: NotifyRules(confirmReports: 3))
        for i in 0..<20 {
            run.report("rpt_\(i)", i % 2 == 0 ? .drifted : .inSync, at: R.seconds(Int64(i) * 12), attributes: ["image"])
            #expect(run.track.pending?.reports ?? 1 == 1)
        }
        #expect(run.sent.isEmpty)
        #expect(run.track.announced == .inSync)
        // Two agreeing reports then a flip back: still nothing; three in a row: announced.
        run.report("rpt_a", .drifted, at: R.seconds(300), attributes: ["image"])
        run.report("rpt_b", .drifted, at: R.seconds(312), attributes: ["image"])
        run.report("rpt_c", .inSync, at: R.seconds(324))
        #expect(run.sent.isEmpty && run.track.pending == nil)
        run.report("rpt_d", .drifted, at: R.seconds(336), attributes: ["image"])
        run.report("rpt_e", .drifted, at: R.seconds(348), attributes: ["image"])
        let sent = run.report("rpt_f", .drifted, at: R.seconds(360), attributes: ["image"])
        #expect(sent.map(\.eventID) == [Transition.eventID(machineID: "mch_1", reportID: "rpt_d", previous: .inSync, state: .drifted)])
    }

    @Test("for = 10m: the deadline is the end of the window; a tick before it sends nothing, at it the transition")
    func confirmFor() {
        var run = R(rules: NotifyRules(confirmForMs: 600_000))
        #expect(run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"]).isEmpty)
        #expect(run.lastDeadline == R.minutes(10))
        #expect(run.tick(R.minutes(10) - 1).isEmpty)
        #expect(run.tick(R.minutes(10)).map(\.eventID) == [Self.driftedID])
        #expect(run.lastDeadline == nil)
    }

    @Test("a flip back inside the for window cancels it: its deadline goes, the tick sends nothing")
    func forCancelled() {
        var run = R(rules: NotifyRules(confirmForMs: 600_000))
        run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        run.report("rpt_2", .inSync, at: R.seconds(300))
        #expect(run.track.pending == nil && run.lastDeadline == nil)
        #expect(run.tick(R.minutes(10)).isEmpty)
        #expect(run.sent.isEmpty)
    }

    @Test("confirm and for together: both must hold, whichever comes last announces")
    func confirmAndFor() {
        var run = R(rules: NotifyRules(confirmReports: 2, confirmForMs: 600_000))
        run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        run.report("rpt_2", .drifted, at: R.seconds(60), attributes: ["cpu"])
        #expect(run.sent.isEmpty && run.lastDeadline == R.minutes(10))
        #expect(run.tick(R.minutes(10)).map(\.eventID) == [Self.driftedID])

        var slow = R(rules: NotifyRules(confirmReports: 2, confirmForMs: 600_000))
        slow.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        #expect(slow.tick(R.minutes(10)).isEmpty)  // the time has passed, one report only
        #expect(slow.report("rpt_2", .drifted, at: R.seconds(720), attributes: ["cpu"]).map(\.eventID) == [Self.driftedID])
    }

    @Test("a machine never observed: a flap before the first confirmation is a first observation (in_sync not sent, drifted sent as first)")
    func firstObservationAfterFlap() throws {
        var run = R(rules: NotifyRules(confirmReports: 3), from: .unknown)
        run.report("rpt_1", .inSync, at: R.seconds(0))
        run.report("rpt_2", .drifted, at: R.seconds(60), attributes: ["cpu"])
        run.report("rpt_3", .inSync, at: R.seconds(120))
        run.report("rpt_4", .inSync, at: R.seconds(180))
        let confirmed = run.report("rpt_5", .inSync, at: R.seconds(240))
        let transition = try #require(confirmed.first?.transition)
        #expect(transition.firstObservation && transition.state == .inSync)
        #expect(!transition.isWanted(by: Set(DriftState.allCases)), "a first observation in sync is not sent")
        #expect(!run.track.unobserved)
        // The next change is an ordinary transition.
        for (i, at) in [300, 360, 420].enumerated() { run.report("rpt_d\(i)", .drifted, at: R.seconds(Int64(at)), attributes: ["cpu"]) }
        #expect(run.sent.last?.transition?.firstObservation == false && run.sent.last?.transition?.state == .drifted)
    }

    @Test("unknown has no reports to count: only `for` delays it")
    func unknownConfirm() {
        var run = R(rules: NotifyRules(confirmReports: 3))
        run.report("rpt_1", .inSync, at: R.seconds(0))
        let sent = run.expire(nowMs: R.minutes(16))
        #expect(sent.map { $0.transition?.state } == [.unknown])
        var timed = R(rules: NotifyRules(confirmReports: 3, confirmForMs: 300_000))
        timed.report("rpt_1", .inSync, at: R.seconds(0))
        #expect(timed.expire(nowMs: R.minutes(16)).isEmpty)
        // The window counts from the expiry's own timestamp (expires_at = +15m).
        #expect(timed.lastDeadline == R.minutes(20))
        #expect(timed.tick(R.minutes(20)).map { $0.transition?.state } == [.unknown])
    }

    @Test("reminders: numbered from 1 at announcedAt + n × repeat_interval, ids from the transition and n")
    func reminders() throws {
        var run = R(rules: NotifyRules(repeatIntervalMs: 4 * 3_600_000))
        run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        #expect(run.lastDeadline == R.minutes(240))
        let first = run.tick(R.minutes(240))
        #expect(first.map(\.eventID) == ["evt_272747bc884c901060cc3dfa180c3304"])
        #expect(first.first?.kind == .reminder(1) && first.first?.atMs == R.minutes(240))
        #expect(run.lastDeadline == R.minutes(480))
        #expect(run.tick(R.minutes(480)).map(\.eventID) == ["evt_e35b7427507427cc2508746b89e59e38"])
        // Back in sync: no more reminders.
        run.report("rpt_9", .inSync, at: R.seconds(500 * 60))
        #expect(run.lastDeadline == nil)
    }

    @Test("after a long pause only the latest due reminder goes out")
    func reminderAfterPause() {
        var run = R(rules: NotifyRules(repeatIntervalMs: 4 * 3_600_000))
        run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        let late = run.tick(R.minutes(13 * 60))
        #expect(late.map(\.eventID) == ["evt_504f674e8302d94f8a48befb0875a361"])
        #expect(late.first?.kind == .reminder(3))
    }

    @Test("no reminders while muted; they resume on rhythm after the mute")
    func reminderMuted() {
        var run = R(rules: NotifyRules(repeatIntervalMs: 4 * 3_600_000))
        run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        run.mute = Mute(untilMs: R.minutes(9 * 60), reason: "silence sil_000000000001: deploy")
        #expect(run.tick(R.minutes(240)).isEmpty)
        #expect(run.tick(R.minutes(480)).isEmpty)
        #expect(run.silencedDecisions == 2)
        // The announced state was sent before the mute: nothing to catch up at its end.
        #expect(run.tick(R.minutes(540)).isEmpty)
        #expect(run.lastDeadline == R.minutes(720))
        #expect(run.tick(R.minutes(720)).map(\.kind) == [.reminder(3)])
    }

    @Test("muted: a change is not sent; when the mute ends the current state is sent if it differs from the last sent")
    func muteEnd() {
        var run = R(rules: NotifyRules(confirmReports: 1))
        run.mute = Mute(untilMs: R.minutes(60), reason: "maintenance window 1")
        #expect(run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"]).isEmpty)
        #expect(run.silencedDecisions == 1)
        #expect(run.track.announced == .drifted && run.track.lastSent == .inSync)
        #expect(run.lastDeadline == R.minutes(60))
        let atEnd = run.tick(R.minutes(60))
        #expect(atEnd.map(\.eventID) == [Self.driftedID])
        #expect(run.track.lastSent == .drifted && run.lastDeadline == nil)

        // Drifted and back while muted: nothing at the end.
        var quiet = R(rules: NotifyRules(confirmReports: 1))
        quiet.mute = Mute(untilMs: R.minutes(60), reason: "silence")
        quiet.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        quiet.report("rpt_2", .inSync, at: R.seconds(600))
        #expect(quiet.tick(R.minutes(60)).isEmpty)
        #expect(quiet.sent.isEmpty)
    }

    @Test("muted until later: the id at the mute's end is the latest transition's")
    func muteEndLatest() {
        var run = R(rules: NotifyRules())
        run.report("rpt_0", .drifted, at: R.seconds(0), attributes: ["cpu"])
        run.mute = Mute(untilMs: R.minutes(60), reason: "silence")
        run.report("rpt_1", .inSync, at: R.seconds(60))
        run.report("rpt_2", .drifted, at: R.seconds(120), attributes: ["cpu"])
        run.report("rpt_3", .inSync, at: R.seconds(180))
        let end = run.tick(R.minutes(60))
        #expect(end.map(\.eventID) == [Transition.eventID(machineID: "mch_1", reportID: "rpt_3", previous: .drifted, state: .inSync)])
    }

    @Test("ignore_attributes: a drift in ignored attributes alone counts as in_sync; with others it is a drift")
    func ignore() throws {
        var run = R(rules: NotifyRules(ignoreAttributes: ["memory_mb"]))
        #expect(run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["memory_mb"]).isEmpty)
        let drift = run.report("rpt_2", .drifted, at: R.seconds(60), attributes: ["cpu", "memory_mb"])
        #expect(drift.map(\.eventID) == [Transition.eventID(machineID: "mch_1", reportID: "rpt_2", previous: .inSync, state: .drifted)])
        #expect(drift.first?.transition?.machineName == "web-1")
        #expect(run.track.announcedAttributes == ["cpu"])
        let back = run.report("rpt_3", .drifted, at: R.seconds(120), attributes: ["memory_mb"])
        #expect(back.map { $0.transition?.state } == [.inSync])
        #expect(back.first?.eventID == Transition.eventID(machineID: "mch_1", reportID: "rpt_3", previous: .drifted, state: .inSync))
        // A drift with no attribute detail is not ignored.
        #expect(NotifyPolicy.announceState(of: DriftReport(id: "r", machineID: "m", state: .drifted, etag: "e", createdAt: 0, startedAt: 0, expiresAt: 1),
                                           rules: NotifyRules(ignoreAttributes: ["memory_mb"])) == .drifted)
    }

    @Test("drift changed: drifted → drifted with another set of attributes, only when subscribed")
    func driftChanged() {
        var run = R(rules: NotifyRules(driftChanged: true))
        run.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        let changed = run.report("rpt_2", .drifted, at: R.seconds(60), attributes: ["image", "cpu"])
        #expect(changed.map(\.eventID) == ["evt_8d9c7676a0e56b2bac388a1b8f608c57"])
        guard case .changed(let previous, let report)? = changed.first?.kind else { Issue.record("not a changed message"); return }
        #expect(previous == ["cpu"] && report.id == "rpt_2")
        #expect(run.report("rpt_3", .drifted, at: R.seconds(120), attributes: ["cpu", "image"]).isEmpty)

        var off = R(rules: NotifyRules(driftChanged: false, ignoreAttributes: ["x"]))
        off.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        #expect(off.report("rpt_2", .drifted, at: R.seconds(60), attributes: ["image", "cpu"]).isEmpty)
        // Only ignored attributes changed: not a change.
        var ignored = R(rules: NotifyRules(driftChanged: true, ignoreAttributes: ["memory_mb"]))
        ignored.report("rpt_1", .drifted, at: R.seconds(0), attributes: ["cpu"])
        #expect(ignored.report("rpt_2", .drifted, at: R.seconds(60), attributes: ["cpu", "memory_mb"]).isEmpty)
    }

    @Test("group windows are aligned; an event whose window has ended joins the window of now")
    func groupBuckets() {
        let start = R.t0 * 1000
        #expect(NotifyGroupWindow.bucketStart(eventAtMs: start + 1_000, groupWaitMs: 30_000, nowMs: start + 10_000) == start)
        #expect(NotifyGroupWindow.bucketStart(eventAtMs: start + 29_999, groupWaitMs: 30_000, nowMs: start + 29_999) == start)
        #expect(NotifyGroupWindow.bucketStart(eventAtMs: start + 30_000, groupWaitMs: 30_000, nowMs: start + 30_000) == start + 30_000)
        // Window [start, start+30s) was sent at start+30s: a late event joins [start+90s, start+120s).
        #expect(NotifyGroupWindow.bucketStart(eventAtMs: start + 5_000, groupWaitMs: 30_000, nowMs: start + 95_000) == start + 90_000)
        #expect(NotifyEventID.group(webhook: "slack", bucketStartMs: start) == "evt_f57ca9f731141808e745dfb3077de974")
    }
}
