import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Checkpoints the state file's write-ahead log from a connection of its own, in the background.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, on the writing
/// connection: with `synchronous = NORMAL` it is the only fsync, and it held the engine's write (and so
/// the transitions and webhooks of that batch) for 10-20 ms about once a second at 1,000 checks/s.
/// Replacing that hook moves the work here; a WAL that still grows past `inlineLimitPages` (a checkpoint
/// that cannot keep up) is checkpointed by the writer itself, as SQLite would, so it stays bounded.
final class WALCheckpointer: Sendable {
    /// WAL pages after a commit that start a background checkpoint (SQLite's default autocheckpoint).
    static let backgroundPages: Int32 = 1_000
    /// WAL pages after which the writer checkpoints inline (about 32 MiB with 4 KiB pages).
    static let inlineLimitPages: Int32 = 8_000

    private let path: String
    private let queue = DispatchQueue(label: "akua-driftd.wal-checkpoint", qos: .utility)
    private struct State {
        var requested = false
        var connection: DatabaseQueue?
        var completed = 0
        var lastError: String?
    }
    private let state = Mutex(State())

    private init(path: String) {
        self.path = path
    }

    /// Installs a checkpointer on `writer`'s connection (the one connection that writes the file).
    static func install(on writer: DatabasePool, path: String) throws -> WALCheckpointer {
        let checkpointer = WALCheckpointer(path: path)
        // The hook's context lives as long as the process: a connection never drops its hook, and the
        // pool may outlive every `AppDatabase` value that refers to it.
        let context = Unmanaged.passRetained(checkpointer).toOpaque()
        try writer.writeWithoutTransaction { db in
            sqlite3_wal_hook(db.sqliteConnection, { context, connection, name, pages in
                guard let context else { return SQLITE_OK }
                let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
                if pages >= WALCheckpointer.inlineLimitPages {
                    sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                } else if pages >= WALCheckpointer.backgroundPages {
                    checkpointer.request()
                }
                return SQLITE_OK
            }, context)
        }
        return checkpointer
    }

    /// Asks for a checkpoint; requests that arrive while one is pending are folded into it.
    func request() {
        let first = state.withLock { state -> Bool in
            defer { state.requested = true }
            return !state.requested
        }
        guard first else { return }
        queue.async { self.run() }
    }

    private func run() {
        let connection = state.withLock { state -> DatabaseQueue? in
            state.requested = false
            return state.connection
        }
        do {
            let database = try connection ?? open()
            // PASSIVE: copies what no reader still needs, never waits for the writer or the readers.
            _ = try database.writeWithoutTransaction { try $0.checkpoint(.passive) }
            state.withLock { $0.completed += 1; $0.lastError = nil }
        } catch {
            // The writer's inline limit still bounds the WAL; the next commit over the threshold retries.
            state.withLock { $0.lastError = "\(error)" }
        }
    }

    private func open() throws -> DatabaseQueue {
        var config = Configuration()
        config.busyMode = .timeout(5)
        let connection = try DatabaseQueue(path: path, configuration: config)
        state.withLock { $0.connection = connection }
        return connection
    }

    /// Checkpoints completed so far, and the last failure if the latest one failed.
    var progress: (completed: Int, lastError: String?) {
        state.withLock { ($0.completed, $0.lastError) }
    }

    /// Runs `body` on the checkpoint queue (tests: hold the queue to see what the writer does alone).
    func holdForTesting(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    /// Returns once every requested checkpoint has run.
    func waitUntilIdle() {
        queue.sync {}
    }
}
