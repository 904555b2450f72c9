import DriftCore
import Foundation
import GRDB

/// A silence as stored: the silence and, once `akua-driftd silence remove` ended it early, when.
public struct StoredSilence: Sendable, Hashable {
    public var silence: Silence
    /// Unix ms; nil while it was not removed.
    public var removedAtMs: Int64?

    public init(silence: Silence, removedAtMs: Int64?) {
        self.silence = silence
        self.removedAtMs = removedAtMs
    }

    /// Whether it mutes anything at `atMs` (started, not ended, not removed).
    public func isActive(atMs: Int64) -> Bool {
        removedAtMs == nil && silence.startsAtMs <= atMs && atMs < silence.endsAtMs
    }
}

/// Why a silence cannot be added or removed; each names what to do.
public enum SilenceError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownID(String)
    case alreadyRemoved(id: String, atMs: Int64)
    case invalid(String)
    case noSilenceTable(path: String)

    public var description: String {
        switch self {
        case .unknownID(let id):
            "no silence with id \(id) (see `akua-driftd silence list --all`)"
        case .alreadyRemoved(let id, let at):
            "silence \(id) was already removed (at \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(at) / 1000))))"
        case .invalid(let message):
            message
        case .noSilenceTable(let path):
            "\(path): this state file has no silence table yet; start (or restart) akua-driftd once to upgrade it"
        }
    }
}

/// The operators' silences (`akua-driftd silence`, migration "v3: silences"): written by the CLI while the
/// daemon runs, read by the daemon's engine. A removed silence keeps its row, `removed_at` set.
extension AppDatabase {
    /// Opens an existing state file for reading and writing without migrating it: `akua-driftd silence`
    /// writes one table while the daemon may run, and must neither create a file the service's user could
    /// not open nor upgrade the schema behind the daemon's back.
    public static func openExisting(path: String) throws(StoreError) -> AppDatabase {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .cannotOpen(path: path, detail: "no such file (has the daemon run yet?)")
        }
        try inspectHeader(path: path)
        var config = Configuration()
        config.busyMode = .timeout(5)
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            let id = try queue.read { try Int32.fetchOne($0, sql: "PRAGMA application_id") } ?? 0
            if id != applicationID { throw StoreError.foreign(path: path) }
            return AppDatabase(path: path, writer: queue)
        } catch {
            throw storeError(error, path: path)
        }
    }

    /// A fresh silence id: `sil_` and 12 random hex digits.
    public static func newSilenceID<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let value = UInt64.random(in: 0..<(1 << 48), using: &generator)
        let hex = String(value, radix: 16)
        return "sil_" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// Stores a new silence under a fresh random id and returns it. `machineIDs` nil covers every
    /// machine; the window is [startsAtMs, endsAtMs).
    @discardableResult
    public func addSilence(
        machineIDs: [String]?, startsAtMs: Int64, endsAtMs: Int64, reason: String, createdBy: String?, createdAtMs: Int64
    ) throws -> Silence {
        var generator = SystemRandomNumberGenerator()
        return try addSilence(
            machineIDs: machineIDs, startsAtMs: startsAtMs, endsAtMs: endsAtMs, reason: reason, createdBy: createdBy,
            createdAtMs: createdAtMs, using: &generator)
    }

    /// `addSilence` with the id drawn from `generator` (a clash with a stored id draws again).
    @discardableResult
    public func addSilence<G: RandomNumberGenerator>(
        machineIDs: [String]?, startsAtMs: Int64, endsAtMs: Int64, reason: String, createdBy: String?, createdAtMs: Int64,
        using generator: inout G
    ) throws -> Silence {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw SilenceError.invalid("a silence needs a reason") }
        guard endsAtMs > startsAtMs else { throw SilenceError.invalid("a silence must end after it starts") }
        if let machineIDs, machineIDs.isEmpty || machineIDs.contains(where: \.isEmpty) {
            throw SilenceError.invalid("a silence names at least one machine, or every machine")
        }
        var seen = Set<String>()
        let machines = machineIDs.map { $0.filter { seen.insert($0).inserted } }
        let machinesJSON = try machines.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try requireSilenceTable()
        return try writer.write { db in
            for _ in 0..<8 {
                let silence = Silence(
                    id: Self.newSilenceID(using: &generator), machineIDs: machines, startsAtMs: startsAtMs, endsAtMs: endsAtMs,
                    reason: reason, createdBy: createdBy, createdAtMs: createdAtMs)
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO silence (id, machines, starts_at, ends_at, reason, created_by, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [silence.id, machinesJSON, startsAtMs, endsAtMs, reason, createdBy, createdAtMs])
                if db.changesCount == 1 { return silence }
            }
            throw SilenceError.invalid("could not draw an unused silence id")
        }
    }

    /// The silences that still matter at `nowMs` (in force or to come, not removed), or with `all` every
    /// stored one, ended and removed ones included; by start, then id.
    public func silences(atMs nowMs: Int64, all: Bool = false) throws -> [StoredSilence] {
        try requireSilenceTable()
        return try writer.read { db in
            let filter = all ? "" : "WHERE removed_at IS NULL AND ends_at > ?"
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, machines, starts_at, ends_at, reason, created_by, created_at, removed_at
                    FROM silence \(filter) ORDER BY starts_at, id
                    """,
                arguments: all ? [] : [nowMs])
            return try rows.map(Self.storedSilence)
        }
    }

    /// Ends silence `id` now (sets `removed_at`); the row stays for `silence list --all`.
    /// Throws `SilenceError.unknownID` or `.alreadyRemoved`.
    @discardableResult
    public func removeSilence(id: String, atMs: Int64) throws -> StoredSilence {
        try requireSilenceTable()
        return try writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT removed_at FROM silence WHERE id = ?", arguments: [id]) else {
                throw SilenceError.unknownID(id)
            }
            if let removed: Int64 = row["removed_at"] { throw SilenceError.alreadyRemoved(id: id, atMs: removed) }
            try db.execute(sql: "UPDATE silence SET removed_at = ? WHERE id = ?", arguments: [atMs, id])
            guard let stored = try Self.silence(db, id: id) else { throw SilenceError.unknownID(id) }
            return stored
        }
    }

    private static func silence(_ db: Database, id: String) throws -> StoredSilence? {
        try Row.fetchOne(
            db, sql: "SELECT id, machines, starts_at, ends_at, reason, created_by, created_at, removed_at FROM silence WHERE id = ?",
            arguments: [id]
        ).map(storedSilence)
    }

    /// One `silence` row.
    private static func storedSilence(_ row: Row) throws -> StoredSilence {
        let machines: String? = row["machines"]
        return StoredSilence(
            silence: Silence(
                id: row["id"], machineIDs: try machines.map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) },
                startsAtMs: row["starts_at"], endsAtMs: row["ends_at"], reason: row["reason"], createdBy: row["created_by"],
                createdAtMs: row["created_at"]),
            removedAtMs: row["removed_at"])
    }

    /// A state file opened with `openExisting` may predate migration v3.
    private func requireSilenceTable() throws {
        let exists = try writer.read { try $0.tableExists("silence") }
        if !exists { throw SilenceError.noSilenceTable(path: path) }
    }
}

/// The pid of the daemon that runs on this file and listens for SIGUSR1 (`daemon_fact`), so that
/// `akua-driftd silence` wakes it: written once the daemon traps the signal, cleared when it stops.
extension AppDatabase {
    static let signalPIDFact = "silence_signal_pid"

    public func setSignalPID(_ pid: Int32?) throws {
        try writer.write { db in
            if let pid {
                try db.execute(
                    sql: "INSERT INTO daemon_fact (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    arguments: [Self.signalPIDFact, Int64(pid)])
            } else {
                try db.execute(sql: "DELETE FROM daemon_fact WHERE name = ?", arguments: [Self.signalPIDFact])
            }
        }
    }

    public func signalPID() throws -> Int32? {
        try writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT value FROM daemon_fact WHERE name = ?", arguments: [Self.signalPIDFact])
        }.flatMap { Int32(exactly: $0) }
    }
}
