import DriftCore
import GRDB

/// What the engine needs per machine at start and reload: no delta, no snapshot, no JSON decoding,
/// so that 100,000 machines load in well under a second.
public struct MachineBookkeeping: Sendable, Hashable {
    public var id: String
    public var state: DriftState
    public var observed: Bool
    public var consecutiveFailures: Int
    /// Unix ms.
    public var lastSlot: Int64?
    /// Unix seconds, of the latest report.
    public var reportCreatedAt: Int64?
    /// Unix seconds, of the latest report.
    public var reportExpiresAt: Int64?
    public var reportID: String?
    /// Unix ms: the latest report's expiry on the local clock.
    public var reportLocalExpiresAt: Int64?
    /// Unix ms.
    public var lastCheckedAt: Int64?
}

extension AppDatabase {
    /// The scheduling-relevant columns of every configured machine.
    public func machineBookkeeping() throws -> [MachineBookkeeping] {
        try writer.read { db in
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT id, state, observed, consecutive_failures, last_slot, report_created_at, report_expires_at,
                       report_id, report_local_expires_at, last_checked_at
                FROM machine WHERE configured = 1
                """)
            var result: [MachineBookkeeping] = []
            while let row = try cursor.next() {
                result.append(MachineBookkeeping(
                    id: row[0], state: DriftState(rawValue: row[1]) ?? .unknown, observed: row[2],
                    consecutiveFailures: row[3], lastSlot: row[4], reportCreatedAt: row[5], reportExpiresAt: row[6],
                    reportID: row[7], reportLocalExpiresAt: row[8], lastCheckedAt: row[9]))
            }
            return result
        }
    }
}

extension AppDatabase {
    /// Applies a change of the watched set without touching unchanged rows: `upserting` machines are added,
    /// renamed, or configured again; `removing` ones leave the watched set (their rows and history stay).
    /// When the file matches the previous set, the result equals `configureMachines` with the new full
    /// list, at a cost proportional to the change (a reload of 100,000 machines that changes one).
    public func updateConfiguredMachines(upserting upserts: [(id: String, name: String?)], removing removed: [String]) throws {
        guard !upserts.isEmpty || !removed.isEmpty else { return }
        try writer.write { db in
            let upsert = try db.makeStatement(sql: """
                INSERT INTO machine (id, name, configured) VALUES (?, ?, 1)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, configured = 1
                WHERE machine.name IS NOT excluded.name OR machine.configured = 0
                """)
            for machine in upserts { try upsert.execute(arguments: [machine.id, machine.name]) }
            let unconfigure = try db.makeStatement(sql: "UPDATE machine SET configured = 0 WHERE id = ? AND configured = 1")
            for id in removed { try unconfigure.execute(arguments: [id]) }
        }
    }

    /// The scheduling-relevant columns of the given configured machines (those a reload adds).
    public func machineBookkeeping(ids: [String]) throws -> [MachineBookkeeping] {
        guard !ids.isEmpty else { return [] }
        return try writer.read { db in
            var result: [MachineBookkeeping] = []
            result.reserveCapacity(ids.count)
            let statement = try db.makeStatement(sql: """
                SELECT id, state, observed, consecutive_failures, last_slot, report_created_at, report_expires_at,
                       report_id, report_local_expires_at, last_checked_at
                FROM machine WHERE configured = 1 AND id = ?
                """)
            for id in ids {
                let cursor = try Row.fetchCursor(statement, arguments: [id])
                while let row = try cursor.next() {
                    result.append(MachineBookkeeping(
                        id: row[0], state: DriftState(rawValue: row[1]) ?? .unknown, observed: row[2],
                        consecutiveFailures: row[3], lastSlot: row[4], reportCreatedAt: row[5], reportExpiresAt: row[6],
                    reportID: row[7], reportLocalExpiresAt: row[8], lastCheckedAt: row[9]))
                }
            }
            return result
        }
    }
}

extension AppDatabase {
    /// The API clock minus the local clock (ms) last measured by the daemon, for `status`.
    public func clockSkewMs() throws -> Int64? {
        try writer.read { db in try Int64.fetchOne(db, sql: "SELECT value FROM daemon_fact WHERE name = 'clock_skew_ms'") }
    }

    public func setClockSkewMs(_ value: Int64) throws {
        try writer.write { db in
            try db.execute(sql: "INSERT INTO daemon_fact (name, value) VALUES ('clock_skew_ms', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", arguments: [value])
        }
    }
}
