@testable import DriftStore
import DriftCore
import Foundation
import GRDB
import Testing

/// The state file's lifecycle (README, "The state file"): retention pruning, online backup, the copy kept
/// before a schema migration, and the facts `status` reads (reloads, webhook backlog).
@Suite("State file lifecycle (real SQLite files)")
struct StateLifecycleTests {
    static let day: Int64 = 86_400_000

    /// A check of `machine` at `at` that moves it to `state`, with one delivery per webhook.
    func change(_ machine: String, _ n: Int, at: Int64, drifted: Bool) -> CheckRecord {
        checkRecord(machine, report: makeReport("rpt_\(machine)_\(n)", machine: machine, state: drifted ? .drifted : .inSync, at: at),
                    previous: drifted ? .inSync : .drifted, at: at)
    }

    /// Journals every transition and finishes every delivery (delivered, or failed for odd seqs).
    func finishAll(_ database: AppDatabase, at: Int64) throws {
        try database.markJournaled(try database.unjournaledTransitions(limit: 100_000).map(\.seq))
        for delivery in try database.dueDeliveries(webhook: "hook-a", now: .max, limit: 100_000) {
            if delivery.seq % 2 == 0 {
                try database.markDelivered(seq: delivery.seq, attempts: 1, at: at)
            } else {
                try database.markFailed(seq: delivery.seq, attempts: 9, at: at, error: "HTTP 500")
            }
        }
    }

    @Test("pruning removes journaled transitions and finished deliveries older than the cutoff, never pending ones")
    func pruneKeepsPendingAndRecent() throws {
        try withTemporaryDirectory { dir in
            let database = try AppDatabase.open(path: dir.appendingPathComponent("state.sqlite").path)
            try database.configureMachines([("mch_old", nil), ("mch_stuck", nil), ("mch_new", nil)])
            // 40 days ago: finished.
            _ = try database.record([change("mch_old", 1, at: t0 - 40 * Self.day, drifted: true)])
            try finishAll(database, at: t0 - 40 * Self.day)
            // 40 days ago: journaled, but its delivery is still pending (a receiver down for long).
            _ = try database.record([change("mch_stuck", 1, at: t0 - 40 * Self.day, drifted: true)])
            try database.markJournaled(try database.unjournaledTransitions().map(\.seq))
            // 40 days ago, never journaled (the daemon died before the journal write).
            let unjournaled = try database.record([change("mch_old", 2, at: t0 - 40 * Self.day + 1, drifted: false)])
            // Yesterday: finished.
            _ = try database.record([change("mch_new", 1, at: t0 - Self.day, drifted: true)])
            try database.markJournaled(try database.unjournaledTransitions().map(\.seq).filter { $0 != unjournaled[0].seq })
            for delivery in try database.dueDeliveries(webhook: "hook-a", now: .max, limit: 100) where delivery.machineID == "mch_new" {
                try database.markDelivered(seq: delivery.seq, attempts: 1, at: t0 - Self.day)
            }
            let before = try database.deliveryCounts()

            // Injected clock: now is t0, retention 30 days.
            let removed = try database.prune(before: t0 - 30 * Self.day, batch: 1)
            #expect(removed == PruneCounts(transitions: 1, deliveries: 1), "\(removed)")
            let left = try database.transitions().map { "\($0.transition.machineID) \($0.transition.state.rawValue)" }
            #expect(left.sorted() == ["mch_new drifted", "mch_old in_sync", "mch_stuck drifted"], "\(left)")
            let after = try database.deliveryCounts()
            #expect(after["pending"] == before["pending"] && after["pending", default: 0] >= 2, "pending deliveries are never pruned: \(after)")
            #expect(try database.machines().count == 3, "machines are not history: they stay")
            #expect(try database.integrityCheck() == "ok")
        }
    }

    @Test("at a steady fleet, a file pruned to its retention stops growing (SQLite reuses the freed pages)")
    func steadyFleetFileStopsGrowing() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let database = try AppDatabase.open(path: path)
            let machines = (0..<50).map { "mch_\($0)" }
            try database.configureMachines(machines.map { ($0, nil) })
            let raw = try DatabaseQueue(path: path, configuration: { var c = Configuration(); c.readonly = true; return c }())
            func pages() throws -> Int { try raw.read { try Int.fetchOne($0, sql: "PRAGMA page_count") ?? 0 } }
            var sizes: [Int] = []
            // 60 simulated days, every machine flips every day; retention 5 days.
            for day in 0..<60 {
                let now = t0 + Int64(day) * Self.day
                _ = try database.record(machines.map { change($0, day, at: now, drifted: day % 2 == 0) })
                try finishAll(database, at: now)
                try database.prune(before: now - 5 * Self.day)
                sizes.append(try pages())
            }
            #expect(try database.rowCounts().transitions == 6 * machines.count, "six days of transitions are kept")
            // Without pruning it would grow by about ten pages a day; pruned, the second month adds none.
            #expect(sizes[59] <= sizes[29], "page count kept growing: day 30 \(sizes[29]), day 60 \(sizes[59]) (\(sizes))")
            #expect(sizes[59] <= sizes[6] + 5, "flat once the retention window is full (day 7 \(sizes[6])): \(sizes)")
        }
    }

    @Test("state backup while a writer keeps recording: the copy is consistent (every transition with its delivery)")
    func backupWhileWriting() async throws {
        try await withTemporaryDirectoryAsync { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let database = try AppDatabase.open(path: path)
            try database.configureMachines((0..<20).map { ("mch_\($0)", nil) })
            _ = try database.record([change("mch_0", 0, at: t0, drifted: true)])
            // The writer runs on its own thread (it blocks on SQLite), recording until told to stop.
            let stop = ManagedAtomicFlag()
            let written = ManagedAtomicFlag()
            let finished = ManagedAtomicFlag()
            let writer = Thread {
                var n = 1
                while !stop.isSet {
                    _ = try? database.record((0..<20).map { change("mch_\($0)", n, at: t0 + Int64(n), drifted: n % 2 == 1) })
                    n += 1
                    if n > 20 { written.set() }
                }
                finished.set()
            }
            writer.start()
            try await waitUntil { written.isSet }
            let copy = dir.appendingPathComponent("copy.sqlite").path
            for round in 0..<3 {
                try database.backup(to: copy)
                // While the writer keeps going: SQLite's own integrity check, and the invariant that the
                // engine writes a transition and its delivery in one transaction.
                try verifyCopy(copy, round: round)
            }
            stop.set()
            try await waitUntil { finished.isSet }
            let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
            #expect(mode == 0o600, "the copy is as private as the state file")
        }
    }

    /// The copy, read on its own while the writer keeps going.
    func verifyCopy(_ copy: String, round: Int) throws {
        let reader = try DatabaseQueue(path: copy, configuration: { var c = Configuration(); c.readonly = true; return c }())
        try reader.read { db in
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok", "round \(round)")
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "delete", "the copy is one self-contained file")
            let transitions = try Int.fetchOne(db, sql: "SELECT count(*) FROM transition_log") ?? 0
            let orphans = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM transition_log t WHERE NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_id = t.event_id)
                """) ?? -1
            #expect(transitions > 20, "round \(round): \(transitions) transitions")
            #expect(orphans == 0, "round \(round): a transition without its delivery (torn copy)")
        }
        try reader.close()
    }

    @Test("before migrating an older file, a copy of it is kept as PATH.pre-vN; a current file is not copied")
    func preMigrationCopy() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let first = AppDatabase.migrator.migrations[0]
            do {
                // A file as the first release wrote it: stamped as ours, only migration v1 applied.
                let old = try DatabaseQueue(path: path)
                try old.write { try $0.execute(sql: "PRAGMA application_id = 1095451730") }
                try AppDatabase.migrator.migrate(old, upTo: first)
                try old.write { try $0.execute(sql: "INSERT INTO machine (id, name) VALUES ('mch_kept', 'web')") }
                try old.close()
            }
            let database = try AppDatabase.open(path: path)
            let copy = path + ".pre-v\(AppDatabase.migrator.migrations.count)"
            #expect(FileManager.default.fileExists(atPath: copy))
            let saved = try DatabaseQueue(path: copy, configuration: { var c = Configuration(); c.readonly = true; return c }())
            try saved.read { (db: Database) throws -> Void in
                #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") == [first])
                #expect(try String.fetchAll(db, sql: "SELECT id FROM machine") == ["mch_kept"])
            }
            try saved.close()
            #expect(try database.machines().map(\.id) == ["mch_kept"])
            try FileManager.default.removeItem(atPath: copy)
            _ = try AppDatabase.open(path: path)
            #expect(!FileManager.default.fileExists(atPath: copy), "a file already at the current schema is not copied")
        }
    }

    @Test("reload outcomes, disabled webhooks and the outbox backlog read back as recorded")
    func facts() throws {
        let database = try AppDatabase.inMemory()
        #expect(try database.lastReload() == nil)
        try database.recordReload(ReloadFact(generation: 1, at: t0, accepted: true, errorCount: 0))
        try database.recordReload(ReloadFact(generation: 2, at: t0 + 5, accepted: false, errorCount: 3))
        #expect(try database.lastReload() == ReloadFact(generation: 2, at: t0 + 5, accepted: false, errorCount: 3))
        try database.setDisabledWebhooks(["w1", "w2"])
        try database.setDisabledWebhooks(["w2"])
        #expect(try database.disabledWebhooks() == ["w2"])
        try database.configureMachines([("mch_a", nil), ("mch_b", nil)])
        _ = try database.record([change("mch_a", 1, at: t0, drifted: true)])
        _ = try database.record([change("mch_b", 1, at: t0 + 1_000, drifted: true)])
        _ = try database.record([change("mch_a", 2, at: t0 + 2_000, drifted: false)])
        let first = try #require(try database.dueDeliveries(webhook: "hook-a", now: .max, limit: 1).first)
        try database.markFailed(seq: first.seq, attempts: 9, at: t0 + 3_000, error: "HTTP 500")
        #expect(try database.webhookBacklog() == [
            WebhookBacklog(webhook: "hook-a", pending: 2, oldestPendingAt: t0 + 1_000, failed: 1, delivered: 0)
        ])
    }
}

/// A flag shared with a plain thread.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Polls `condition` every 10 ms for up to 30 s (the writer thread's first rows).
func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while !condition() {
        guard ContinuousClock.now < deadline else { Issue.record("timed out"); return }
        try await Task.sleep(for: .milliseconds(10))
    }
}
