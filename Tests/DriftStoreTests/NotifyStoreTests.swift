import DriftCore
import DriftStore
import Foundation
import GRDB
import Testing

/// Migration v4: the policy's tracks and group members are written in the check's own transaction, read
/// back after a reopen, and a group window's flush sends one delivery and drops its members atomically.
@Suite("State file: notification policy (v4)")
struct NotifyStoreTests {
    static func pendingTrack(_ report: DriftReport) -> NotifyTrack {
        var track = NotifyTrack(state: .inSync)
        let transition = Transition(
            machineID: report.machineID, machineName: nil, previous: .inSync, state: .drifted, cause: .report, report: report,
            at: t0, firstObservation: false)
        track.pending = .init(state: .drifted, transition: transition, sinceMs: t0, reports: 2)
        return track
    }

    @Test("tracks, policy outbox rows and group members are written with the check and survive a reopen")
    func roundTrip() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let report = makeReport("rpt_1", machine: "mch_a", state: .drifted)
            let track = Self.pendingTrack(report)
            do {
                let database = try AppDatabase.open(path: path)
                var check = CheckRecord(machineID: "mch_a", checkedAt: t0, report: report)
                check.outbox = [OutboxItem(webhook: "hook-a", body: Array("{\"r\":1}".utf8), eventID: "evt_reminder")]
                check.notifyTracks = [NotifyTrackWrite(webhook: "hook-a", machineID: "mch_a", track: track, deadline: t0 + 600_000)]
                check.groupMembers = [NotifyGroupMember(
                    webhook: "hook-b", bucketStartMs: t0, eventID: "evt_m1", machineID: "mch_a", atMs: t0 + 5, body: Array("{\"m\":1}".utf8))]
                try database.record([check])
                // Recording the same decision again (a replay) adds no second row anywhere.
                try database.record([check])
            }
            let database = try AppDatabase.open(path: path)
            let tracks = try database.notifyTracks()
            #expect(tracks.count == 1)
            #expect(tracks.first?.track == track && tracks.first?.deadline == t0 + 600_000)
            let pending = try database.pendingNotifications()
            #expect(pending["mch_a"]?.state == .drifted && pending["mch_a"]?.sinceMs == t0)
            #expect(try database.deliveries(webhook: "hook-a").map(\.eventID) == ["evt_reminder"])
            let members = try database.notifyGroupMembers()
            #expect(members.map(\.eventID) == ["evt_m1"] && members.first?.bucketStartMs == t0)
            let raw = try DatabaseQueue(path: path)
            let (count, last) = try raw.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM notify_group_member"),
                 try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").last)
            }
            #expect(count == 1 && last == "v4: notify policy")
        }
    }

    @Test("a group flush inserts one delivery and deletes the window's members in the same transaction; a track can be forgotten")
    func flushAndForget() throws {
        let database = try AppDatabase.inMemory()
        var check = CheckRecord(machineID: "mch_a", checkedAt: t0)
        check.groupMembers = (0..<3).map {
            NotifyGroupMember(webhook: "hook-b", bucketStartMs: t0, eventID: "evt_\($0)", machineID: "mch_a", atMs: t0 + Int64($0), body: [0x7b, 0x7d])
        }
        check.notifyTracks = [NotifyTrackWrite(webhook: "hook-b", machineID: "mch_a", track: NotifyTrack(state: .drifted), deadline: nil)]
        try database.record([check])
        var forget = CheckRecord(machineID: "mch_a", checkedAt: t0 + 30_000)
        forget.notifyTracks = [NotifyTrackWrite(webhook: "hook-b", machineID: "mch_a", track: nil, deadline: nil)]
        try database.record([forget], groupFlushes: [
            NotifyGroupFlush(webhook: "hook-b", bucketStartMs: t0, eventID: "evt_group", body: Array("{\"g\":1}".utf8), atMs: t0 + 30_000),
        ])
        #expect(try database.notifyGroupMembers().isEmpty)
        #expect(try database.notifyTracks().isEmpty)
        let sent = try database.deliveries(webhook: "hook-b")
        #expect(sent.map(\.eventID) == ["evt_group"] && sent.first?.machineID == AppDatabase.groupDeliveryMachineID)
    }

    @Test("the engine's silences: in force or to come, removed ones left out")
    func silencesForEngine() throws {
        let database = try AppDatabase.inMemory()
        let kept = try database.addSilence(machineIDs: ["mch_a"], startsAtMs: t0, endsAtMs: t0 + 3_600_000, reason: "deploy", createdBy: nil, createdAtMs: t0)
        let later = try database.addSilence(machineIDs: nil, startsAtMs: t0 + 7_200_000, endsAtMs: t0 + 9_000_000, reason: "later", createdBy: nil, createdAtMs: t0)
        let removed = try database.addSilence(machineIDs: nil, startsAtMs: t0, endsAtMs: t0 + 3_600_000, reason: "oops", createdBy: nil, createdAtMs: t0)
        try database.removeSilence(id: removed.id, atMs: t0 + 1)
        _ = try database.addSilence(machineIDs: nil, startsAtMs: t0 - 7_200_000, endsAtMs: t0 - 1, reason: "over", createdBy: nil, createdAtMs: t0)
        #expect(Set(try database.silencesForEngine(atMs: t0 + 10).map(\.id)) == [kept.id, later.id])
    }
}
