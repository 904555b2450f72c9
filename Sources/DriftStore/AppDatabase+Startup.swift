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
}

extension AppDatabase {
    /// The scheduling-relevant columns of every configured machine.
    public func machineBookkeeping() throws -> [MachineBookkeeping] {
        try writer.read { db in
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT id, state, observed, consecutive_failures, last_slot, report_created_at, report_expires_at
                FROM machine WHERE configured = 1
                """)
            var result: [MachineBookkeeping] = []
            while let row = try cursor.next() {
                result.append(MachineBookkeeping(
                    id: row[0], state: DriftState(rawValue: row[1]) ?? .unknown, observed: row[2],
                    consecutiveFailures: row[3], lastSlot: row[4], reportCreatedAt: row[5], reportExpiresAt: row[6]))
            }
            return result
        }
    }
}
