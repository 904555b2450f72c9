@testable import DriftStore
import Foundation
import GRDB
import Testing

/// The state file's WAL is checkpointed in the background, from a connection of its own, and stays
/// bounded (README, "The state file"): the engine's commits no longer wait for a checkpoint's fsync.
@Suite("WAL checkpoints off the writer (real SQLite files)")
struct WALCheckpointerTests {
    /// Rewrites the names of `machines` machines `rounds` times, one transaction per round.
    func churn(_ database: AppDatabase, machines: Int, rounds: Int) throws {
        let ids = (0..<machines).map { "mch_\($0)" }
        try database.configureMachines(ids.map { ($0, nil) })
        for round in 0..<rounds {
            try database.updateConfiguredMachines(upserting: ids.map { ($0, "name-\(round)-padding-padding") }, removing: [])
        }
    }

    /// The WAL's length in frames, as SQLite reports it to a PASSIVE checkpoint from a new connection.
    func walFrames(_ path: String) throws -> Int {
        let connection = try DatabaseQueue(path: path)
        return try connection.writeWithoutTransaction { try $0.checkpoint(.passive) }.walFrameCount
    }

    /// A new state file opened as the daemon opens it, with its checkpointer and its path.
    func withDaemonDatabase(_ body: (AppDatabase, WALCheckpointer, String) throws -> Void) throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let database = try AppDatabase.open(path: path)
            try body(database, try #require(database.checkpointer), path)
        }
    }

    @Test("commits past 1,000 WAL pages are checkpointed in the background, and the WAL stays bounded")
    func checkpointsInBackground() throws {
        try withDaemonDatabase { database, checkpointer, path in
            try churn(database, machines: 4_000, rounds: 60)
            checkpointer.waitUntilIdle()
            let progress = checkpointer.progress
            #expect(progress.lastError == nil)
            #expect(progress.completed >= 1, "no background checkpoint ran")

            // SQLite's own account, from a connection of the test's: the WAL holds far less than 60 rounds wrote.
            let frames = try walFrames(path)
            #expect(frames < Int(WALCheckpointer.inlineLimitPages), "the WAL holds \(frames) frames: the checkpoints do not keep it bounded")

            // Nothing is lost: a new connection sees the last round's names.
            let reader = try DatabaseQueue(path: path)
            let renamed = try reader.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM machine WHERE name = 'name-59-padding-padding'") }
            #expect(renamed == 4_000)
        }
    }

    @Test("the writer itself never runs the automatic checkpoint below the inline limit")
    func writerDoesNotCheckpoint() throws {
        try withDaemonDatabase { database, checkpointer, path in
            // Hold the checkpointer's queue: no background checkpoint can run while the writes happen.
            let held = DispatchSemaphore(value: 0)
            let blocked = DispatchSemaphore(value: 0)
            checkpointer.holdForTesting { blocked.signal(); held.wait() }
            blocked.wait()
            defer { held.signal() }
            // Well past SQLite's default of 1,000 pages, below the inline limit.
            try churn(database, machines: 4_000, rounds: 50)
            // SQLite's count: had the writer checkpointed (SQLite's default hook), the WAL would have been
            // restarted after 1,000 pages and would hold about one round (a round is a few hundred frames).
            let frames = try walFrames(path)
            print("WAL frames after 50 rounds with the background checkpoint held: \(frames)")
            #expect(frames > 2_000, "the WAL holds \(frames) frames: the writer checkpointed")
            #expect(frames < Int(WALCheckpointer.inlineLimitPages))
        }
    }
}
