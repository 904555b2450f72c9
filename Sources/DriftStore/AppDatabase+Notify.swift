import DriftCore
import Foundation
import GRDB

/// A policy track to write (or, with `track` nil, to forget) with a check's records.
public struct NotifyTrackWrite: Sendable, Hashable {
    public var webhook: String
    public var machineID: String
    public var track: NotifyTrack?
    /// When the policy must look at it again (unix ms), for the engine's restart.
    public var deadline: Int64?
    public init(webhook: String, machineID: String, track: NotifyTrack?, deadline: Int64?) {
        self.webhook = webhook
        self.machineID = machineID
        self.track = track
        self.deadline = deadline
    }
}

/// A policy message held for its webhook's group window (`group_wait`).
public struct NotifyGroupMember: Sendable, Hashable {
    public var webhook: String
    public var bucketStartMs: Int64
    public var eventID: String
    public var machineID: String
    /// The message's own timestamp (unix ms): members are listed oldest first.
    public var atMs: Int64
    public var body: [UInt8]
    public init(webhook: String, bucketStartMs: Int64, eventID: String, machineID: String, atMs: Int64, body: [UInt8]) {
        self.webhook = webhook
        self.bucketStartMs = bucketStartMs
        self.eventID = eventID
        self.machineID = machineID
        self.atMs = atMs
        self.body = body
    }
}

/// A group window sent: its message goes to the outbox and its members are deleted, in one transaction.
public struct NotifyGroupFlush: Sendable, Hashable {
    public var webhook: String
    public var bucketStartMs: Int64
    public var eventID: String
    public var body: [UInt8]
    /// Unix ms (the outbox row's creation and first attempt).
    public var atMs: Int64
    public init(webhook: String, bucketStartMs: Int64, eventID: String, body: [UInt8], atMs: Int64) {
        self.webhook = webhook
        self.bucketStartMs = bucketStartMs
        self.eventID = eventID
        self.body = body
        self.atMs = atMs
    }
}

/// A stored track, as the engine loads it at start.
public struct StoredNotifyTrack: Sendable, Hashable {
    public var webhook: String
    public var machineID: String
    public var track: NotifyTrack
    public var deadline: Int64?
}

/// The notification policy's state (migration "v4: notify policy"): one track per webhook and machine that
/// has a policy, and the members of open group windows. Written only with the check records they follow from.
extension AppDatabase {
    /// The outbox's `machine_id` of a group message (it covers several machines).
    public static let groupDeliveryMachineID = ""

    static func registerNotifyPolicy(_ db: Database) throws {
        // `track` is the JSON of `NotifyTrack`; `pending_state`/`pending_since` repeat its pending state for `status`.
        try db.execute(sql: """
            CREATE TABLE notify_track (
                webhook TEXT NOT NULL,
                machine_id TEXT NOT NULL,
                track TEXT NOT NULL,
                deadline INTEGER,
                pending_state TEXT,
                pending_since INTEGER,
                PRIMARY KEY (webhook, machine_id)
            ) WITHOUT ROWID;
            CREATE INDEX notify_track_pending ON notify_track(machine_id) WHERE pending_state IS NOT NULL;
            CREATE TABLE notify_group_member (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                webhook TEXT NOT NULL,
                bucket_start INTEGER NOT NULL,
                event_id TEXT NOT NULL,
                machine_id TEXT NOT NULL,
                at INTEGER NOT NULL,
                body BLOB NOT NULL,
                UNIQUE (webhook, event_id)
            );
            CREATE INDEX notify_group_bucket ON notify_group_member(webhook, bucket_start, at, seq);
            """)
    }

    static func applyNotify(_ check: CheckRecord, db: Database, encoder: JSONEncoder) throws {
        for item in check.outbox {
            guard let eventID = item.eventID else { continue }
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO delivery (webhook, event_id, machine_id, body, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [item.webhook, eventID, check.machineID, Data(item.body), check.checkedAt, check.checkedAt])
        }
        for member in check.groupMembers {
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO notify_group_member (webhook, bucket_start, event_id, machine_id, at, body)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [member.webhook, member.bucketStartMs, member.eventID, member.machineID, member.atMs, Data(member.body)])
        }
        for write in check.notifyTracks {
            guard let track = write.track else {
                try db.cachedStatement(sql: "DELETE FROM notify_track WHERE webhook = ? AND machine_id = ?")
                    .execute(arguments: [write.webhook, write.machineID])
                continue
            }
            let json = String(decoding: try encoder.encode(track), as: UTF8.self)
            try db.cachedStatement(sql: """
                INSERT INTO notify_track (webhook, machine_id, track, deadline, pending_state, pending_since)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(webhook, machine_id) DO UPDATE SET track = excluded.track, deadline = excluded.deadline,
                    pending_state = excluded.pending_state, pending_since = excluded.pending_since
                """).execute(arguments: [
                    write.webhook, write.machineID, json, write.deadline, track.pending?.state.rawValue, track.pending?.sinceMs,
                ])
        }
    }

    static func applyGroupFlushes(_ flushes: [NotifyGroupFlush], db: Database) throws {
        for flush in flushes {
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO delivery (webhook, event_id, machine_id, body, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [flush.webhook, flush.eventID, groupDeliveryMachineID, Data(flush.body), flush.atMs, flush.atMs])
            try db.cachedStatement(sql: "DELETE FROM notify_group_member WHERE webhook = ? AND bucket_start = ?")
                .execute(arguments: [flush.webhook, flush.bucketStartMs])
        }
    }

    /// Every stored track (the engine's start).
    public func notifyTracks() throws -> [StoredNotifyTrack] {
        try writer.read { db in
            let decoder = JSONDecoder()
            return try Row.fetchAll(db, sql: "SELECT webhook, machine_id, track, deadline FROM notify_track").compactMap { row in
                let json: String = row["track"]
                guard let track = try? decoder.decode(NotifyTrack.self, from: Data(json.utf8)) else { return nil }
                return StoredNotifyTrack(webhook: row["webhook"], machineID: row["machine_id"], track: track, deadline: row["deadline"])
            }
        }
    }

    /// The members of open group windows, oldest first per window (the engine's start).
    public func notifyGroupMembers() throws -> [NotifyGroupMember] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT webhook, bucket_start, event_id, machine_id, at, body FROM notify_group_member
                ORDER BY webhook, bucket_start, at, seq
                """).map { row in
                let body: Data = row["body"]
                return NotifyGroupMember(
                    webhook: row["webhook"], bucketStartMs: row["bucket_start"], eventID: row["event_id"],
                    machineID: row["machine_id"], atMs: row["at"], body: Array(body))
            }
        }
    }

    /// For `status`: each machine's pending (unconfirmed) state and since when (unix ms); with several
    /// webhooks waiting, the earliest. Empty for a file older than migration v4.
    public func pendingNotifications() throws -> [String: (state: DriftState, sinceMs: Int64)] {
        try writer.read { db in
            guard try db.tableExists("notify_track") else { return [:] }
            var result: [String: (state: DriftState, sinceMs: Int64)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT machine_id, pending_state, pending_since FROM notify_track
                WHERE pending_state IS NOT NULL ORDER BY machine_id, pending_since, webhook
                """) {
                let id: String = row["machine_id"]
                guard result[id] == nil, let state = DriftState(rawValue: row["pending_state"]) else { continue }
                result[id] = (state, row["pending_since"] ?? 0)
            }
            return result
        }
    }

    /// The silences the engine mutes with: in force or to come, not removed (none before migration v3).
    public func silencesForEngine(atMs nowMs: Int64) throws -> [Silence] {
        try writer.read { db in
            guard try db.tableExists("silence") else { return [] }
            return try Row.fetchAll(db, sql: """
                SELECT id, machines, starts_at, ends_at, reason, created_by, created_at FROM silence
                WHERE removed_at IS NULL AND ends_at > ? ORDER BY starts_at, id
                """, arguments: [nowMs]).map { row in
                let machines: String? = row["machines"]
                return Silence(
                    // An unreadable list mutes nothing rather than every machine.
                    id: row["id"], machineIDs: machines.map { (try? JSONDecoder().decode([String].self, from: Data($0.utf8))) ?? [] },
                    startsAtMs: row["starts_at"], endsAtMs: row["ends_at"], reason: row["reason"], createdBy: row["created_by"],
                    createdAtMs: row["created_at"])
            }
        }
    }

    /// Every delivery of `webhook` (any status), oldest first: (event id, machine id, body) (tests and audits).
    public func deliveries(webhook: String) throws -> [(eventID: String, machineID: String, body: [UInt8])] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT event_id, machine_id, body FROM delivery WHERE webhook = ? ORDER BY seq", arguments: [webhook])
                .map { row in
                    let body: Data = row["body"]
                    return (row["event_id"], row["machine_id"], Array(body))
                }
        }
    }

    /// `PRAGMA data_version` on the writing connection: it changes only when another connection (say,
    /// `akua-driftd silence`) committed, never for the daemon's own writes.
    public func dataVersion() throws -> Int64 {
        // Cached: asked before every batch the engine records.
        try writer.writeWithoutTransaction { try Int64.fetchOne($0.cachedStatement(sql: "PRAGMA data_version")) ?? 0 }
    }
}
