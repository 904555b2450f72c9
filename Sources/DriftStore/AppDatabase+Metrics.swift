import Foundation
import GRDB

/// What `/metrics` reads from the state file at scrape time: one grouped query over the pending part of
/// the outbox (the `delivery_pending` partial index) and the file sizes.
extension AppDatabase {
    /// One webhook's pending deliveries: how many, and the oldest one's `created_at` (unix ms).
    public struct PendingOutbox: Sendable, Hashable {
        public var webhook: String
        public var count: Int
        public var oldestCreatedAt: Int64
    }

    /// Pending deliveries per webhook id (webhooks with none are absent).
    public func pendingOutbox() throws -> [PendingOutbox] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT webhook, count(*) AS n, min(created_at) AS oldest FROM delivery WHERE status = 'pending' GROUP BY webhook"
            ).map { PendingOutbox(webhook: $0["webhook"], count: $0["n"], oldestCreatedAt: $0["oldest"]) }
        }
    }

    /// Bytes of the state file with its `-wal` file (nil when the main file cannot be read).
    public func fileBytes() -> Int64? {
        func size(_ path: String) -> Int64? {
            var info = stat()
            return stat(path, &info) == 0 ? Int64(info.st_size) : nil
        }
        guard let main = size(path) else { return nil }
        return main + (size(path + "-wal") ?? 0)
    }
}
