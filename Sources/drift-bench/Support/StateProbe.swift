import GRDB

/// Reads the daemon's state file while it runs (WAL lets a reader in beside the writer): how many
/// configured machines have a recorded report, i.e. how far the first round has come.
struct StateProbe {
    let path: String

    func machinesWithReport() -> Int? {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(1)
        guard let queue = try? DatabaseQueue(path: path, configuration: configuration) else { return nil }
        return try? queue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM machine WHERE configured = 1 AND report_id IS NOT NULL")
        }
    }
}
