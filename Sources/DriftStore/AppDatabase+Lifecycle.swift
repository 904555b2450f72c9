import Foundation
import GRDB

/// Outbox backlog of one webhook endpoint (its outbox id), for `status`.
public struct WebhookBacklog: Sendable, Equatable, Codable {
    public var webhook: String
    public var pending: Int
    /// Unix ms of the oldest pending delivery's event.
    public var oldestPendingAt: Int64?
    public var failed: Int
    public var delivered: Int

    public init(webhook: String, pending: Int, oldestPendingAt: Int64?, failed: Int, delivered: Int) {
        self.webhook = webhook
        self.pending = pending
        self.oldestPendingAt = oldestPendingAt
        self.failed = failed
        self.delivered = delivered
    }
}

/// The outcome of the latest reload (SIGHUP), as the daemon recorded it.
public struct ReloadFact: Sendable, Equatable, Codable {
    /// Counts every reload since the daemon started (1 = the first).
    public var generation: Int64
    /// Unix ms.
    public var at: Int64
    public var accepted: Bool
    public var errorCount: Int

    public init(generation: Int64, at: Int64, accepted: Bool, errorCount: Int) {
        self.generation = generation
        self.at = at
        self.accepted = accepted
        self.errorCount = errorCount
    }
}

/// What one pruning pass removed.
public struct PruneCounts: Sendable, Equatable {
    public var transitions: Int
    public var deliveries: Int
}

extension AppDatabase {
    /// Deletes delivered and failed deliveries finished before `cutoffMs`, then transitions before it that
    /// are journaled and have no pending delivery. Pending deliveries are never touched. Works in batches
    /// of `batch` rows so that the engine's writes never wait long; freed pages are reused by SQLite, so a
    /// steady fleet's file stops growing.
    @discardableResult
    public func prune(before cutoffMs: Int64, batch: Int = 2_000) throws -> PruneCounts {
        var counts = PruneCounts(transitions: 0, deliveries: 0)
        while true {
            let removed = try writer.write { db in
                try db.execute(sql: """
                    DELETE FROM delivery WHERE seq IN (
                        SELECT seq FROM delivery WHERE status IN ('delivered', 'failed') AND finished_at < ? LIMIT ?)
                    """, arguments: [cutoffMs, batch])
                return db.changesCount
            }
            counts.deliveries += removed
            if removed < batch { break }
        }
        while true {
            let removed = try writer.write { db in
                try db.execute(sql: """
                    DELETE FROM transition_log WHERE seq IN (
                        SELECT t.seq FROM transition_log t
                        WHERE t.at < ? AND t.journaled = 1
                          AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_id = t.event_id AND d.status = 'pending')
                        LIMIT ?)
                    """, arguments: [cutoffMs, batch])
                return db.changesCount
            }
            counts.transitions += removed
            if removed < batch { break }
        }
        return counts
    }

    /// Row counts of the pruned tables (tests and diagnostics).
    public func rowCounts() throws -> (transitions: Int, deliveries: Int) {
        try writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM transition_log") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery") ?? 0)
        }
    }

    /// Per webhook outbox id: pending (and the oldest one's time), failed and delivered counts.
    public func webhookBacklog() throws -> [WebhookBacklog] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT webhook,
                       sum(status = 'pending') AS pending,
                       min(CASE WHEN status = 'pending' THEN created_at END) AS oldest,
                       sum(status = 'failed') AS failed,
                       sum(status = 'delivered') AS delivered
                FROM delivery GROUP BY webhook ORDER BY webhook
                """).map {
                WebhookBacklog(webhook: $0["webhook"], pending: $0["pending"], oldestPendingAt: $0["oldest"],
                               failed: $0["failed"], delivered: $0["delivered"])
            }
        }
    }

    /// Records the outcome of reload number `fact.generation` (kept in `daemon_fact`).
    public func recordReload(_ fact: ReloadFact) throws {
        try writer.write { db in
            let facts: [(String, Int64)] = [
                ("reload_generation", fact.generation), ("reload_at_ms", fact.at),
                ("reload_accepted", fact.accepted ? 1 : 0), ("reload_errors", Int64(fact.errorCount)),
            ]
            for (name, value) in facts {
                try db.execute(
                    sql: "INSERT INTO daemon_fact (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    arguments: [name, value])
            }
        }
    }

    /// The latest recorded reload, if the daemon has ever been reloaded.
    public func lastReload() throws -> ReloadFact? {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT name, value FROM daemon_fact WHERE name LIKE 'reload\\_%' ESCAPE '\\'")
            var facts: [String: Int64] = [:]
            for row in rows { facts[row["name"]] = row["value"] }
            guard let generation = facts["reload_generation"], let at = facts["reload_at_ms"] else { return nil }
            return ReloadFact(generation: generation, at: at, accepted: facts["reload_accepted"] == 1,
                              errorCount: Int(facts["reload_errors"] ?? 0))
        }
    }

    /// Replaces the set of webhook outbox ids disabled by a 410 (until the next reload).
    public func setDisabledWebhooks(_ ids: Set<String>) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM daemon_fact WHERE name LIKE 'webhook_disabled:%'")
            for id in ids.sorted() {
                try db.execute(sql: "INSERT INTO daemon_fact (name, value) VALUES (?, 1)", arguments: ["webhook_disabled:\(id)"])
            }
        }
    }

    public func disabledWebhooks() throws -> Set<String> {
        try writer.read { db in
            Set(try String.fetchAll(db, sql: "SELECT substr(name, 18) FROM daemon_fact WHERE name LIKE 'webhook_disabled:%'"))
        }
    }

    /// A consistent copy of the whole file at `destination` while others keep writing (SQLite's online
    /// backup). Written to a temporary file next to it and renamed, so `destination` is never half-written.
    public func backup(to destination: String) throws {
        let temporary = destination + ".partial-\(getpid())"
        unlink(temporary)
        do {
            let target = try DatabaseQueue(path: temporary)
            chmod(temporary, 0o600)  // a copy of the state is as private as the state
            try writer.backup(to: target)
            // A single self-contained file (the source may be in WAL mode, and the copy would inherit it).
            try target.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try target.close()
            guard rename(temporary, destination) == 0 else {
                throw StoreError.cannotOpen(path: destination, detail: String(cString: strerror(errno)))
            }
        } catch {
            unlink(temporary)
            throw Self.storeError(error, path: destination)
        }
    }
}

extension AppDatabase {
    /// Schema version of this build: the number of known migrations (`v1`, `v2`, ...).
    public static var schemaVersion: Int { migrator.migrations.count }

    /// Before migrating an existing file, keeps a consistent copy of it as `PATH.pre-vN` (N: the version it
    /// is about to become), so that an older akua-driftd can be put back (README, "The state file").
    static func keepPreMigrationCopy(path: String) throws(StoreError) {
        let copy = "\(path).pre-v\(schemaVersion)"
        do {
            var config = Configuration()
            config.readonly = true
            config.busyMode = .timeout(5)
            let source = AppDatabase(path: path, writer: try DatabaseQueue(path: path, configuration: config))
            try source.backup(to: copy)
        } catch {
            throw .cannotOpen(path: path, detail: "cannot keep a copy before migrating it (\(copy)): \(error)")
        }
    }
}

extension AppDatabase {
    /// Copies the whole write-ahead log into the state file and empties it (`wal_checkpoint(TRUNCATE)`),
    /// as a file at rest would be: the benchmark calls it after seeding 100,000 rows in one transaction, so
    /// that the copy of that transaction's WAL does not run inside the measured window.
    package func checkpointFully() throws {
        _ = try writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    }
}
