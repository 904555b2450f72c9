import DriftCore
import Foundation
import GRDB

/// The daemon's SQLite state file: machines, the transition log and the webhook outbox.
///
/// One writer, WAL, named append-only migrations. Every write that changes a machine's state also writes
/// the transition and its deliveries in the same transaction, so a crash can never keep one without the other.
public struct AppDatabase: Sendable {
    /// `PRAGMA application_id` of our files ("AKDR"), to refuse another application's database.
    static let applicationID: Int32 = 0x414B_4452
    public let path: String
    let writer: any DatabaseWriter
    /// The daemon's background WAL checkpoints (nil for read-only and in-memory databases).
    var checkpointer: WALCheckpointer?

    /// Opens (creating if needed) the state file for the daemon and migrates it.
    public static func open(path: String) throws(StoreError) -> AppDatabase {
        let exists = FileManager.default.fileExists(atPath: path)
        try inspectHeader(path: path)
        if exists, try inspectContent(path: path) { try keepPreMigrationCopy(path: path) }
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            var database = AppDatabase(path: path, writer: pool)
            try database.verifyOwnership(fileExisted: exists)
            try database.migrate()
            database.checkpointer = try WALCheckpointer.install(on: pool, path: path)
            return database
        } catch {
            throw storeError(error, path: path)
        }
    }

    /// Opens the state file read-only (for `akua-driftd status` while the daemon runs).
    public static func openReadOnly(path: String) throws(StoreError) -> AppDatabase {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .cannotOpen(path: path, detail: "no such file (has the daemon run yet?)")
        }
        try inspectHeader(path: path)
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            let database = AppDatabase(path: path, writer: queue)
            let id = try queue.read { try Int32.fetchOne($0, sql: "PRAGMA application_id") } ?? 0
            if id != applicationID { throw StoreError.foreign(path: path) }
            return database
        } catch {
            throw storeError(error, path: path)
        }
    }

    /// An in-memory database (tests of code that needs a store but not a file).
    public static func inMemory() throws -> AppDatabase {
        let database = AppDatabase(path: ":memory:", writer: try DatabaseQueue())
        try database.verifyOwnership(fileExisted: false)
        try database.migrate()
        return database
    }

    /// Refuses, before SQLite touches it, a file that is neither empty, nor a new database, nor ours:
    /// opening another application's file in WAL mode would already rewrite its header.
    static func inspectHeader(path: String) throws(StoreError) {
        // Absent or unreadable: SQLite creates it or reports why it cannot.
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let header = [UInt8]((try? handle.read(upToCount: 100)) ?? Data())
        // An empty file is a new database (`touch state.sqlite`).
        if header.isEmpty { return }
        guard header.count == 100, header.prefix(16).elementsEqual("SQLite format 3\0".utf8) else {
            throw .corrupt(path: path, detail: "not a SQLite database (bad file header)")
        }
        func uint32(at offset: Int) -> UInt32 { header[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        let id = Int32(bitPattern: uint32(at: 68))
        if id == applicationID { return }
        // Another application_id, or a schema (non-zero schema cookie) that is not ours. (A file whose content
        // is still in its WAL passes here and is checked by `verifyOwnership` through SQLite.)
        if id != 0 || uint32(at: 40) != 0 { throw .foreign(path: path) }
    }

    /// Our own file, read-only, before it is opened for writing (which writes at once: WAL set-up): refuses
    /// a file this version must not migrate (unknown migration) or whose schema SQLite cannot read
    /// (truncated, mangled), so that a refused file is left exactly as it was.
    /// Returns whether the file is ours and needs a migration this version knows.
    @discardableResult
    static func inspectContent(path: String) throws(StoreError) -> Bool {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(5)
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            return try queue.read { db in
                let id = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
                guard id == applicationID else {
                    if id != 0 || tables > 0 { throw StoreError.foreign(path: path) }
                    return false
                }
                let known = Set(migrator.migrations)
                let applied = try migrator.appliedIdentifiers(db)
                if let unknown = applied.first(where: { !known.contains($0) }) {
                    throw StoreError.newerSchema(path: path, migration: unknown)
                }
                return !applied.isEmpty && applied.count < known.count
            }
        } catch {
            throw storeError(error, path: path)
        }
    }

    /// Any error met while opening `path`, as the `StoreError` the operator sees.
    static func storeError(_ error: any Error, path: String) -> StoreError {
        switch error {
        case let error as StoreError: error
        case let error as DatabaseError: classify(error, path: path)
        default: .cannotOpen(path: path, detail: String(describing: error))
        }
    }

    static func classify(_ error: DatabaseError, path: String) -> StoreError {
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: .corrupt(path: path, detail: error.message ?? "\(error.resultCode)")
        case .SQLITE_BUSY, .SQLITE_LOCKED: .locked(path: path)
        default: .cannotOpen(path: path, detail: error.message ?? "\(error.resultCode)")
        }
    }

    private func verifyOwnership(fileExisted: Bool) throws {
        try writer.write { db in
            let id = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            if id == Self.applicationID { return }
            let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
            if id != 0 || tables > 0 { throw StoreError.foreign(path: path) }
            try db.execute(sql: "PRAGMA application_id = \(Self.applicationID)")
        }
    }

    /// Named, append-only migrations: never edit one that has shipped, add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: machines, transitions, webhook outbox") { db in
            try db.execute(sql: """
                CREATE TABLE machine (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT,
                    configured INTEGER NOT NULL DEFAULT 1,
                    state TEXT NOT NULL DEFAULT 'unknown',
                    observed INTEGER NOT NULL DEFAULT 0,
                    state_since INTEGER,
                    report_id TEXT,
                    report_state TEXT,
                    report_etag TEXT,
                    report_created_at INTEGER,
                    report_started_at INTEGER,
                    report_expires_at INTEGER,
                    report_delta TEXT,
                    report_snapshot TEXT,
                    last_checked_at INTEGER,
                    last_slot INTEGER,
                    last_error TEXT,
                    consecutive_failures INTEGER NOT NULL DEFAULT 0,
                    next_due_at INTEGER
                );
                CREATE TABLE transition_log (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id TEXT NOT NULL UNIQUE,
                    machine_id TEXT NOT NULL,
                    previous_state TEXT NOT NULL,
                    state TEXT NOT NULL,
                    cause TEXT NOT NULL,
                    report_id TEXT,
                    at INTEGER NOT NULL,
                    payload TEXT NOT NULL,
                    journaled INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX transition_unjournaled ON transition_log(seq) WHERE journaled = 0;
                CREATE INDEX transition_machine ON transition_log(machine_id, seq);
                CREATE TABLE delivery (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    webhook TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    machine_id TEXT NOT NULL,
                    body BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL,
                    status TEXT NOT NULL DEFAULT 'pending',
                    last_error TEXT,
                    finished_at INTEGER,
                    UNIQUE (webhook, event_id)
                );
                CREATE INDEX delivery_pending ON delivery(webhook, machine_id, seq) WHERE status = 'pending';
                CREATE INDEX delivery_due ON delivery(webhook, next_attempt_at) WHERE status = 'pending';
                """)
        }
        migrator.registerMigration("v2: local report expiry, daemon facts") { db in
            try db.execute(sql: """
                ALTER TABLE machine ADD COLUMN report_local_expires_at INTEGER;
                CREATE TABLE daemon_fact (
                    name TEXT PRIMARY KEY NOT NULL,
                    value INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3: silences") { db in
            // Written by `akua-driftd silence` (another process) and read by the daemon; `machines` is a
            // JSON array of ids, NULL for every machine. A removed silence keeps its row (removed_at set).
            try db.execute(sql: """
                CREATE TABLE silence (
                    id TEXT PRIMARY KEY NOT NULL,
                    machines TEXT,
                    starts_at INTEGER NOT NULL,
                    ends_at INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    created_by TEXT,
                    created_at INTEGER NOT NULL,
                    removed_at INTEGER
                );
                CREATE INDEX silence_ends ON silence(ends_at) WHERE removed_at IS NULL;
                """)
        }
        migrator.registerMigration("v4: notify policy") { db in
            try registerNotifyPolicy(db)
        }
        return migrator
    }

    private func migrate() throws {
        let migrator = Self.migrator
        let applied = try writer.read { try migrator.appliedIdentifiers($0) }
        let known = Set(migrator.migrations)
        if let unknown = applied.first(where: { !known.contains($0) }) {
            throw StoreError.newerSchema(path: path, migration: unknown)
        }
        try migrator.migrate(writer)
    }
}

// MARK: - Machines

extension AppDatabase {
    /// Makes the configured machines the watched set: adds new ones, updates names, marks the rest
    /// as no longer configured (their rows and history stay). Reads the watched set once and writes only
    /// the rows that change: a restart with an unchanged config of a million machines writes nothing
    /// (a temporary table of every id, on disk, took most of such a start).
    public func configureMachines(_ machines: [(id: String, name: String?)]) throws {
        try writer.write { db in
            var current: [String: String?] = [:]
            current.reserveCapacity(machines.count)
            let rows = try Row.fetchCursor(db, sql: "SELECT id, name FROM machine WHERE configured = 1")
            while let row = try rows.next() { current[row[0] as String] = row[1] as String? }
            let upsert = try db.makeStatement(sql: """
                INSERT INTO machine (id, name, configured) VALUES (?, ?, 1)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, configured = 1
                WHERE machine.name IS NOT excluded.name OR machine.configured = 0
                """)
            // A new state file (every machine new, nothing to unconfigure): inserts only, no lookups or set.
            if current.isEmpty {
                for machine in machines { try upsert.execute(arguments: [machine.id, machine.name]) }
                return
            }
            var wanted = Set<String>()
            wanted.reserveCapacity(machines.count)
            for machine in machines {
                wanted.insert(machine.id)
                if let name = current[machine.id], name == machine.name { continue }
                try upsert.execute(arguments: [machine.id, machine.name])
                current[machine.id] = .some(machine.name)
            }
            guard wanted.count != current.count else { return }
            let unconfigure = try db.makeStatement(sql: "UPDATE machine SET configured = 0 WHERE id = ? AND configured = 1")
            for id in current.keys where !wanted.contains(id) { try unconfigure.execute(arguments: [id]) }
        }
    }

    /// Every machine row (configured ones only, unless `includeRemoved`), ordered by id.
    public func machines(includeRemoved: Bool = false) throws -> [MachineRecord] {
        try writer.read { db in
            let sql = "SELECT * FROM machine" + (includeRemoved ? "" : " WHERE configured = 1") + " ORDER BY id"
            let decoder = JSONDecoder()
            return try Row.fetchAll(db, sql: sql).map { try Self.machine(from: $0, decoder: decoder) }
        }
    }

    /// One machine's row, configured or not.
    public func machine(id: String) throws -> MachineRecord? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM machine WHERE id = ?", arguments: [id])
                .map { try Self.machine(from: $0, decoder: JSONDecoder()) }
        }
    }

    static func machine(from row: Row, decoder: JSONDecoder) throws -> MachineRecord {
        var record = MachineRecord(id: row["id"], name: row["name"])
        record.configured = row["configured"]
        record.state = DriftState(rawValue: row["state"]) ?? .unknown
        record.observed = row["observed"]
        record.stateSince = row["state_since"]
        record.lastCheckedAt = row["last_checked_at"]
        record.lastSlot = row["last_slot"]
        record.lastError = row["last_error"]
        record.consecutiveFailures = row["consecutive_failures"]
        record.nextDueAt = row["next_due_at"]
        record.reportLocalExpiresAt = row["report_local_expires_at"]
        if let reportID: String = row["report_id"],
           let state = ReportState(rawValue: row["report_state"] ?? "") {
            var report = DriftReport(
                id: reportID, machineID: record.id, state: state, etag: row["report_etag"] ?? "",
                createdAt: row["report_created_at"] ?? 0, startedAt: row["report_started_at"] ?? 0,
                expiresAt: row["report_expires_at"] ?? 0)
            // The fast reader first (every row is read at start); JSONDecoder for what it leaves.
            if let delta: String = row["report_delta"] {
                report.delta = JSONReader.parse(delta)?.objectValue
                    ?? (try? decoder.decode([String: JSONValue].self, from: Data(delta.utf8)))
            }
            if let snapshot: String = row["report_snapshot"] {
                report.providerSnapshot = ProviderSnapshot(json: JSONReader.parse(snapshot))
                    ?? (try? decoder.decode(ProviderSnapshot.self, from: Data(snapshot.utf8)))
            }
            record.report = report
        }
        return record
    }

    /// Records finished checks (and expiries): machine rows, transitions and their deliveries, in one
    /// transaction. A transition whose event id is already logged (a replay, or a second replica) adds nothing.
    /// Returns the transitions that were new.
    /// `groupFlushes`: group windows sent in the same transaction (their members deleted).
    @discardableResult
    public func record(_ checks: [CheckRecord], groupFlushes: [NotifyGroupFlush] = []) throws -> [TransitionRecord] {
        guard !checks.isEmpty || !groupFlushes.isEmpty else { return [] }
        return try writer.write { db in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var fresh: [TransitionRecord] = []
            for check in checks {
                try Self.apply(check, db: db, encoder: encoder, fresh: &fresh)
            }
            try Self.applyGroupFlushes(groupFlushes, db: db)
            return fresh
        }
    }

    private static func apply(_ check: CheckRecord, db: Database, encoder: JSONEncoder, fresh: inout [TransitionRecord]) throws {
        var sets: [String] = []
        var arguments = StatementArguments()
        if check.report != nil || check.error != nil {
            sets.append("last_checked_at = ?")
            _ = arguments.append(contentsOf: [check.checkedAt])
        }
        if let report = check.report {
            sets.append("""
                report_id = ?, report_state = ?, report_etag = ?, report_created_at = ?, report_started_at = ?,
                report_expires_at = ?, report_delta = ?, report_snapshot = ?, observed = 1,
                last_error = NULL, consecutive_failures = 0, report_local_expires_at = ?
                """)
            let delta = report.delta.map { JSONValue.object($0).jsonText }
            let snapshot = report.providerSnapshot?.jsonText
            _ = arguments.append(contentsOf: [
                report.id, report.state.rawValue, report.etag, report.createdAt, report.startedAt,
                report.expiresAt, delta, snapshot, check.reportLocalExpiresAt ?? report.expiresAt.multipliedReportingOverflow(by: 1000).partialValue,
            ])
        }
        if let error = check.error {
            sets.append("last_error = ?, consecutive_failures = consecutive_failures + 1")
            _ = arguments.append(contentsOf: [error])
        }
        if let slot = check.completedSlot {
            sets.append("last_slot = max(coalesce(last_slot, ?), ?)")
            _ = arguments.append(contentsOf: [slot, slot])
        }
        if let next = check.nextDueAt {
            sets.append("next_due_at = ?")
            _ = arguments.append(contentsOf: [next])
        }
        if let transition = check.transition {
            sets.append("state = ?, state_since = ?")
            _ = arguments.append(contentsOf: [transition.state.rawValue, transition.at])
        }
        if !sets.isEmpty {
            _ = arguments.append(contentsOf: [check.machineID])
            // Cached: a handful of shapes recur for every check, compiled (and authorized) once per connection.
            let update = try db.cachedStatement(sql: "UPDATE machine SET " + sets.joined(separator: ", ") + " WHERE id = ?")
            try update.execute(arguments: arguments)
            if db.changesCount == 0 {
                // A machine checked before it was configured (e.g. tests): create its row, then apply.
                try db.execute(sql: "INSERT INTO machine (id) VALUES (?)", arguments: [check.machineID])
                try update.execute(arguments: arguments)
            }
        }
        for notice in check.notices {
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO delivery (webhook, event_id, machine_id, body, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [notice.item.webhook, notice.eventID, check.machineID, Data(notice.item.body), check.checkedAt, check.checkedAt])
        }
        try applyNotify(check, db: db, encoder: encoder)
        guard let transition = check.transition else { return }
        let payload = String(decoding: try encoder.encode(transition), as: UTF8.self)
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO transition_log (event_id, machine_id, previous_state, state, cause, report_id, at, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                transition.eventID, transition.machineID, transition.previous.rawValue, transition.state.rawValue,
                transition.cause.rawValue, transition.report?.id, transition.at, payload,
            ])
        guard db.changesCount > 0 else { return }
        fresh.append(TransitionRecord(seq: db.lastInsertedRowID, transition: transition, journaled: false))
        for item in check.outbox where item.eventID == nil {
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO delivery (webhook, event_id, machine_id, body, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [item.webhook, transition.eventID, transition.machineID, Data(item.body), transition.at, transition.at])
        }
    }
}

// MARK: - Transition log and journal

extension AppDatabase {
    /// Transitions not yet written to the journal (after a crash between commit and journal), oldest first.
    public func unjournaledTransitions(limit: Int = 1000) throws -> [TransitionRecord] {
        try writer.read { db in
            let decoder = JSONDecoder()
            return try Row.fetchAll(db, sql: "SELECT seq, payload FROM transition_log WHERE journaled = 0 ORDER BY seq LIMIT ?", arguments: [limit])
                .compactMap { row in
                    let payload: String = row["payload"]
                    guard let transition = try? decoder.decode(Transition.self, from: Data(payload.utf8)) else { return nil }
                    return TransitionRecord(seq: row["seq"], transition: transition, journaled: false)
                }
        }
    }

    public func markJournaled(_ seqs: [Int64]) throws {
        guard !seqs.isEmpty else { return }
        try writer.write { db in
            let statement = try db.makeStatement(sql: "UPDATE transition_log SET journaled = 1 WHERE seq = ?")
            for seq in seqs { try statement.execute(arguments: [seq]) }
        }
    }

    /// The whole transition log, oldest first (for tests and audits).
    public func transitions(machineID: String? = nil) throws -> [TransitionRecord] {
        try writer.read { db in
            let decoder = JSONDecoder()
            let rows = try machineID.map {
                try Row.fetchAll(db, sql: "SELECT seq, payload, journaled FROM transition_log WHERE machine_id = ? ORDER BY seq", arguments: [$0])
            } ?? Row.fetchAll(db, sql: "SELECT seq, payload, journaled FROM transition_log ORDER BY seq")
            return rows.compactMap { row in
                let payload: String = row["payload"]
                guard let transition = try? decoder.decode(Transition.self, from: Data(payload.utf8)) else { return nil }
                return TransitionRecord(seq: row["seq"], transition: transition, journaled: row["journaled"])
            }
        }
    }
}

// MARK: - Webhook outbox

extension AppDatabase {
    /// Deliveries of `webhook` due at `now`: for each machine only its oldest pending event, so one
    /// machine's events stay in order while other machines go ahead.
    public func dueDeliveries(webhook: String, now: Int64, limit: Int) throws -> [DeliveryRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.seq, d.webhook, d.event_id, d.machine_id, d.body, d.created_at, d.attempts, d.next_attempt_at
                FROM delivery d
                WHERE d.webhook = ? AND d.status = 'pending' AND d.next_attempt_at <= ?
                  AND NOT EXISTS (SELECT 1 FROM delivery e WHERE e.webhook = d.webhook AND e.machine_id = d.machine_id
                                  AND e.status = 'pending' AND e.seq < d.seq)
                ORDER BY d.seq LIMIT ?
                """, arguments: [webhook, now, limit]).map(Self.delivery(from:))
        }
    }

    /// When the next deliverable event of `webhook` (a machine's oldest pending one) is due (unix ms), if any;
    /// only events due later than `after` count (the dispatcher passes `now`: those due already are in flight).
    public func nextDeliveryTime(webhook: String, after: Int64 = .min) throws -> Int64? {
        try writer.read { db in
            try Int64.fetchOne(db, sql: """
                SELECT min(d.next_attempt_at) FROM delivery d
                WHERE d.webhook = ? AND d.status = 'pending' AND d.next_attempt_at > ?
                  AND NOT EXISTS (SELECT 1 FROM delivery e WHERE e.webhook = d.webhook AND e.machine_id = d.machine_id
                                  AND e.status = 'pending' AND e.seq < d.seq)
                """, arguments: [webhook, after])
        }
    }

    static func delivery(from row: Row) -> DeliveryRecord {
        let body: Data = row["body"]
        return DeliveryRecord(
            seq: row["seq"], webhook: row["webhook"], eventID: row["event_id"], machineID: row["machine_id"],
            body: Array(body), createdAt: row["created_at"], attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"])
    }

    public func markDelivered(seq: Int64, attempts: Int, at: Int64) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE delivery SET status = 'delivered', attempts = ?, finished_at = ?, last_error = NULL WHERE seq = ?",
                           arguments: [attempts, at, seq])
        }
    }

    public func scheduleRetry(seq: Int64, attempts: Int, nextAttemptAt: Int64, error: String) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE delivery SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE seq = ?",
                           arguments: [attempts, nextAttemptAt, error, seq])
        }
    }

    public func markFailed(seq: Int64, attempts: Int, at: Int64, error: String) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE delivery SET status = 'failed', attempts = ?, finished_at = ?, last_error = ? WHERE seq = ?",
                           arguments: [attempts, at, error, seq])
        }
    }

    /// Counts of deliveries per status for `webhook` (tests and status output).
    public func deliveryCounts(webhook: String? = nil) throws -> [String: Int] {
        try writer.read { db in
            let rows = try webhook.map {
                try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM delivery WHERE webhook = ? GROUP BY status", arguments: [$0])
            } ?? Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM delivery GROUP BY status")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["status"] as String, $0["n"] as Int) })
        }
    }
}

// MARK: - Maintenance

extension AppDatabase {
    /// `PRAGMA integrity_check`: "ok" for a sound file.
    public func integrityCheck() throws -> String {
        try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}
