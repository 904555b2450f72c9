import DriftCore
import DriftStore
import Foundation
import GRDB
import Testing

/// The silence API of the state file (`akua-driftd silence`), on real SQLite files: the CLI writes the
/// table while the daemon holds the file open; the daemon reads it.
@Suite("Silences in the state file (real SQLite files)")
struct SilenceStoreTests {
    let hour: Int64 = 3_600_000

    /// A generator yielding `values` in turn (each `UInt64.random(in: 0..<2^48)` draw takes one).
    struct SequenceGenerator: RandomNumberGenerator {
        var values: [UInt64]
        var index = 0
        mutating func next() -> UInt64 {
            defer { index += 1 }
            return values[index % values.count]
        }
    }

    static func isSilenceID(_ id: String) -> Bool {
        id.range(of: "^sil_[0-9a-f]{12}$", options: .regularExpression) != nil
    }

    @Test("add, then list: every field round-trips; ids are sil_ + 12 hex digits and differ; machines is a JSON array or NULL")
    func addAndList() throws {
        try withTemporaryDirectory { dir in
            let database = try AppDatabase.open(path: dir.appendingPathComponent("state.sqlite").path)
            let some = try database.addSilence(
                machineIDs: ["mch_a", "mch_b", "mch_a"], startsAtMs: t0, endsAtMs: t0 + 2 * hour, reason: "  deploy  ",
                createdBy: "alice", createdAtMs: t0)
            let all = try database.addSilence(
                machineIDs: nil, startsAtMs: t0 + 1, endsAtMs: t0 + hour, reason: "network work", createdBy: nil, createdAtMs: t0)
            #expect(Self.isSilenceID(some.id) && Self.isSilenceID(all.id), "\(some.id) \(all.id)")
            #expect(some.id != all.id)
            #expect(some.machineIDs == ["mch_a", "mch_b"], "duplicates dropped, order kept")
            #expect(some.reason == "deploy", "trimmed")

            let listed = try database.silences(atMs: t0 + 10)
            #expect(listed.map(\.silence) == [some, all], "by start")
            #expect(listed.allSatisfy { $0.removedAtMs == nil && $0.isActive(atMs: t0 + 10) })

            // The table as the contract describes it, read without the API.
            let raw = try DatabaseQueue(path: database.path)
            try raw.read { db in
                let machines = try String?.fetchAll(db, sql: "SELECT machines FROM silence ORDER BY starts_at")
                #expect(machines.count == 2 && machines[1] == nil, "NULL covers every machine")
                let decoded = try JSONSerialization.jsonObject(with: Data((machines[0] ?? "").utf8)) as? [String]
                #expect(decoded == ["mch_a", "mch_b"])
                #expect(try Int64.fetchOne(db, sql: "SELECT ends_at FROM silence WHERE id = ?", arguments: [some.id]) == t0 + 2 * hour)
            }
        }
    }

    @Test("list shows active and upcoming silences; --all adds ended and removed ones")
    func listFilters() throws {
        try withTemporaryDirectory { dir in
            let database = try AppDatabase.open(path: dir.appendingPathComponent("state.sqlite").path)
            let now = t0 + 10 * hour
            let ended = try database.addSilence(machineIDs: nil, startsAtMs: t0, endsAtMs: now, reason: "ended at now", createdBy: nil, createdAtMs: t0)
            let active = try database.addSilence(machineIDs: ["m"], startsAtMs: now - hour, endsAtMs: now + hour, reason: "a", createdBy: nil, createdAtMs: t0)
            let future = try database.addSilence(machineIDs: ["m"], startsAtMs: now + hour, endsAtMs: now + 2 * hour, reason: "f", createdBy: nil, createdAtMs: t0)
            let removed = try database.addSilence(machineIDs: ["m"], startsAtMs: now - hour, endsAtMs: now + hour, reason: "r", createdBy: nil, createdAtMs: t0)
            try database.removeSilence(id: removed.id, atMs: now - 1)

            #expect(try database.silences(atMs: now).map(\.silence.id) == [active.id, future.id], "ends_at is exclusive: `ended` is over at now")
            let everything = try database.silences(atMs: now, all: true)
            #expect(Set(everything.map(\.silence.id)) == [ended.id, active.id, future.id, removed.id])
            #expect(everything.first { $0.silence.id == removed.id }?.removedAtMs == now - 1)
            #expect(everything.first { $0.silence.id == future.id }?.isActive(atMs: now) == false, "not started")
            #expect(everything.first { $0.silence.id == ended.id }?.isActive(atMs: now) == false)
            #expect(everything.first { $0.silence.id == removed.id }?.isActive(atMs: now) == false)
        }
    }

    @Test("remove sets removed_at and keeps the row; an unknown id and a second removal are clear errors")
    func remove() throws {
        try withTemporaryDirectory { dir in
            let database = try AppDatabase.open(path: dir.appendingPathComponent("state.sqlite").path)
            let silence = try database.addSilence(machineIDs: nil, startsAtMs: t0, endsAtMs: t0 + hour, reason: "x", createdBy: "bob", createdAtMs: t0)
            let removed = try database.removeSilence(id: silence.id, atMs: t0 + 5)
            #expect(removed.silence == silence && removed.removedAtMs == t0 + 5)
            #expect(try database.silences(atMs: t0 + 6).isEmpty)
            #expect(try database.silences(atMs: t0 + 6, all: true).count == 1, "the row stays")

            #expect(throws: SilenceError.unknownID("sil_000000000000")) { try database.removeSilence(id: "sil_000000000000", atMs: t0) }
            #expect(throws: SilenceError.alreadyRemoved(id: silence.id, atMs: t0 + 5)) { try database.removeSilence(id: silence.id, atMs: t0 + 9) }
            #expect(SilenceError.unknownID("sil_x").description.contains("sil_x"))
            let row = try DatabaseQueue(path: database.path).read { db in
                try Int64.fetchOne(db, sql: "SELECT removed_at FROM silence WHERE id = ?", arguments: [silence.id])
            }
            #expect(row == t0 + 5, "the first removal's time is kept")
        }
    }

    @Test("refused: an empty reason, an end not after the start, an empty machine list or id")
    func validation() throws {
        let database = try AppDatabase.inMemory()
        #expect(throws: SilenceError.self) { try database.addSilence(machineIDs: nil, startsAtMs: t0, endsAtMs: t0 + 1, reason: " \n", createdBy: nil, createdAtMs: t0) }
        #expect(throws: SilenceError.self) { try database.addSilence(machineIDs: nil, startsAtMs: t0, endsAtMs: t0, reason: "r", createdBy: nil, createdAtMs: t0) }
        #expect(throws: SilenceError.self) { try database.addSilence(machineIDs: [], startsAtMs: t0, endsAtMs: t0 + 1, reason: "r", createdBy: nil, createdAtMs: t0) }
        #expect(throws: SilenceError.self) { try database.addSilence(machineIDs: [""], startsAtMs: t0, endsAtMs: t0 + 1, reason: "r", createdBy: nil, createdAtMs: t0) }
        #expect(try database.silences(atMs: t0, all: true).isEmpty, "nothing stored")
    }

    @Test("an id that is taken is drawn again")
    func idClash() throws {
        let database = try AppDatabase.inMemory()
        var first = SequenceGenerator(values: [0xDEAD_BEEF_0000_0000])
        var second = SequenceGenerator(values: [0xDEAD_BEEF_0000_0000, 0x1234_5678_9ABC_DEF0])
        let a = try database.addSilence(machineIDs: nil, startsAtMs: t0, endsAtMs: t0 + 1, reason: "a", createdBy: nil, createdAtMs: t0, using: &first)
        let b = try database.addSilence(machineIDs: nil, startsAtMs: t0, endsAtMs: t0 + 1, reason: "b", createdBy: nil, createdAtMs: t0, using: &second)
        #expect(a.id != b.id && Self.isSilenceID(a.id) && Self.isSilenceID(b.id), "\(a.id) \(b.id)")
        #expect(second.index == 2, "the second silence needed a second draw")
        // Random ids over many draws: all well-formed, none repeated.
        var system = SystemRandomNumberGenerator()
        let ids = (0..<500).map { _ in AppDatabase.newSilenceID(using: &system) }
        #expect(ids.allSatisfy(Self.isSilenceID) && Set(ids).count == ids.count)
    }

    @Test("the CLI's connection (openExisting) writes while the daemon's is open; the daemon reads the row; nothing is created or migrated")
    func cliBesideDaemon() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            #expect(throws: StoreError.self) { try AppDatabase.openExisting(path: path) }
            #expect(!FileManager.default.fileExists(atPath: path), "a missing state file is not created")

            let daemon = try AppDatabase.open(path: path)
            try daemon.setSignalPID(4242)
            let cli = try AppDatabase.openExisting(path: path)
            #expect(try cli.signalPID() == 4242)
            let silence = try cli.addSilence(machineIDs: ["mch_a"], startsAtMs: t0, endsAtMs: t0 + hour, reason: "r", createdBy: "root", createdAtMs: t0)
            #expect(try daemon.silences(atMs: t0).map(\.silence) == [silence])
            try daemon.setSignalPID(nil)
            #expect(try cli.signalPID() == nil)

            let foreign = dir.appendingPathComponent("other.sqlite").path
            try DatabaseQueue(path: foreign).write { try $0.execute(sql: "CREATE TABLE t (x)") }
            #expect(throws: StoreError.self) { try AppDatabase.openExisting(path: foreign) }
        }
    }

    @Test("a state file from before migration v3 (no silence table) gives a clear error, not a crash")
    func preSilenceFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            _ = try AppDatabase.open(path: path)
            try DatabaseQueue(path: path).write { try $0.execute(sql: "DROP TABLE silence") }
            let cli = try AppDatabase.openExisting(path: path)
            #expect(throws: SilenceError.noSilenceTable(path: path)) { try cli.silences(atMs: t0) }
            #expect(SilenceError.noSilenceTable(path: path).description.contains("restart"))
        }
    }
}
