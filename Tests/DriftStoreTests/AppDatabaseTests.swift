import DriftCore
import DriftStore
import Foundation
import GRDB
import Testing

/// The state file on real SQLite files in a temporary directory.
@Suite("State file (real SQLite files)")
struct AppDatabaseTests {
    // MARK: Opening, migrations, reopening

    @Test("a new file is created, stamped as ours, in WAL mode, with the named migrations applied")
    func newFileMigrated() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let database = try AppDatabase.open(path: path)
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(try database.integrityCheck() == "ok")
            #expect(try database.machines(includeRemoved: true).isEmpty)
            #expect(try database.transitions().isEmpty)
            #expect(try database.deliveryCounts().isEmpty)

            let raw = try DatabaseQueue(path: path)
            try raw.read { db in
                #expect(try Int32.fetchOne(db, sql: "PRAGMA application_id") == 0x414B_4452)
                #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
                #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") == ["v1: machines, transitions, webhook outbox", "v2: local report expiry, daemon facts", "v3: silences", "v4: notify policy"])
                let tables = try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
                #expect(tables.isSuperset(of: ["machine", "transition_log", "delivery"]))
            }
        }
    }

    @Test("reopening keeps every row and applies no migration twice")
    func reopenKeepsData() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let report = makeReport("rpt_1", machine: "mch_a", state: .drifted)
            do {
                let database = try AppDatabase.open(path: path)
                try database.configureMachines([("mch_a", "web-a"), ("mch_b", nil)])
                try database.record([checkRecord("mch_a", report: report, previous: .unknown, at: t0, slot: t0 - 5_000, firstObservation: true)])
            }
            let database = try AppDatabase.open(path: path)
            let machines = try database.machines()
            #expect(machines.map(\.id) == ["mch_a", "mch_b"])
            let a = machines[0]
            #expect(a.name == "web-a")
            #expect(a.state == .drifted)
            #expect(a.observed)
            #expect(a.stateSince == t0)
            #expect(a.report == report)
            #expect(a.lastCheckedAt == t0)
            #expect(a.lastSlot == t0 - 5_000)
            #expect(a.nextDueAt == t0 + 900_000)
            #expect(a.lastError == nil && a.consecutiveFailures == 0)
            #expect(machines[1].state == .unknown && machines[1].report == nil && !machines[1].observed)
            let transitions = try database.transitions()
            #expect(transitions.count == 1)
            #expect(transitions.first?.transition.firstObservation == true)
            #expect(try database.dueDeliveries(webhook: "hook-a", now: t0, limit: 10).count == 1)
            let migrations = try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") }
            #expect(migrations == 4, "v1 to v4, each once")
            #expect(try database.integrityCheck() == "ok")
        }
    }

    @Test("an in-memory store works like a file")
    func inMemory() throws {
        let database = try AppDatabase.inMemory()
        try database.record([checkRecord("mch_a", report: makeReport("r", machine: "mch_a", state: .inSync), previous: .unknown, at: t0)])
        #expect(try database.machine(id: "mch_a")?.state == .inSync)
    }

    // MARK: record

    @Test("record writes the machine state, the transition and its outbox rows together")
    func recordWritesEverything() throws {
        try withTemporaryDirectory { dir in
            let database = try AppDatabase.open(path: dir.appendingPathComponent("state.sqlite").path)
            try database.configureMachines([("mch_a", "web-a")])
            let report = makeReport("rpt_1", machine: "mch_a", state: .drifted)
            let check = checkRecord("mch_a", report: report, previous: .unknown, at: t0, webhooks: ["hook-a", "hook-b"], slot: t0)
            let fresh = try database.record([check])
            #expect(fresh.count == 1)
            #expect(fresh.first?.transition == check.transition)
            #expect(fresh.first?.journaled == false)

            #expect(try database.machine(id: "mch_a")?.state == .drifted)
            #expect(try database.transitions(machineID: "mch_a").map(\.transition) == [check.transition!])
            for (hook, item) in zip(["hook-a", "hook-b"], check.outbox) {
                let due = try database.dueDeliveries(webhook: hook, now: t0, limit: 10)
                #expect(due.count == 1)
                #expect(due.first?.eventID == check.transition!.eventID)
                #expect(due.first?.machineID == "mch_a")
                #expect(due.first?.body == item.body)
                #expect(due.first?.createdAt == t0)
                #expect(due.first?.attempts == 0)
            }
        }
    }

    @Test("a batch that fails half-way leaves nothing behind (one transaction)")
    func recordIsAtomic() throws {
        try withTemporaryDirectory { dir in
            let database = try AppDatabase.open(path: dir.appendingPathComponent("state.sqlite").path)
            try database.configureMachines([("mch_a", nil), ("mch_b", nil)])
            let good = checkRecord("mch_a", report: makeReport("rpt_a", machine: "mch_a", state: .drifted), previous: .unknown, at: t0)
            // A delta JSON cannot encode (NaN): the second check of the batch throws.
            var badReport = makeReport("rpt_b", machine: "mch_b", state: .drifted)
            badReport.delta = ["cpu": .number(.nan)]
            let bad = checkRecord("mch_b", report: badReport, previous: .unknown, at: t0)
            #expect(throws: (any Error).self) { try database.record([good, bad]) }

            for id in ["mch_a", "mch_b"] {
                let machine = try #require(try database.machine(id: id))
                #expect(machine.state == .unknown && machine.report == nil && machine.lastCheckedAt == nil)
            }
            #expect(try database.transitions().isEmpty)
            #expect(try database.deliveryCounts().isEmpty)
            // The good one alone goes through.
            #expect(try database.record([good]).count == 1)
        }
    }

    @Test("a duplicate event id adds nothing: no fresh transition, no second delivery")
    func duplicateEventID() throws {
        try withTemporaryDirectory { dir in
            let database = try AppDatabase.open(path: dir.appendingPathComponent("state.sqlite").path)
            let report = makeReport("rpt_1", machine: "mch_a", state: .drifted)
            let check = checkRecord("mch_a", report: report, previous: .unknown, at: t0, webhooks: ["hook-a", "hook-b"])
            #expect(try database.record([check]).count == 1)
            // The replay (a restart re-applying the same report), and a replica announcing it later with another hook.
            #expect(try database.record([check]).isEmpty)
            #expect(try database.record([checkRecord("mch_a", report: report, previous: .unknown, at: t0 + 9_000, webhooks: ["hook-c"])]).isEmpty)
            #expect(try database.transitions().count == 1)
            #expect(try database.deliveryCounts() == ["pending": 2])
            #expect(try database.deliveryCounts(webhook: "hook-c").isEmpty)
            #expect(try database.unjournaledTransitions().count == 1)
            // Within one batch too.
            let other = checkRecord("mch_b", report: makeReport("rpt_2", machine: "mch_b", state: .inSync), previous: .unknown, at: t0)
            #expect(try database.record([other, other]).count == 1)
            #expect(try database.deliveryCounts(webhook: "hook-a") == ["pending": 2])
        }
    }

    @Test("failures count up and set last_error; a report clears them; last_slot never goes back")
    func checkBookkeeping() throws {
        let database = try AppDatabase.inMemory()
        try database.configureMachines([("mch_a", nil)])
        try database.record([CheckRecord(machineID: "mch_a", checkedAt: t0, error: "HTTP 503", nextDueAt: t0 + 1_000)])
        try database.record([CheckRecord(machineID: "mch_a", checkedAt: t0 + 1_000, error: "timeout")])
        var machine = try #require(try database.machine(id: "mch_a"))
        #expect(machine.lastError == "timeout")
        #expect(machine.consecutiveFailures == 2)
        #expect(machine.lastCheckedAt == t0 + 1_000)
        #expect(machine.nextDueAt == t0 + 1_000)
        #expect(machine.state == .unknown)

        let report = makeReport("rpt_1", machine: "mch_a", state: .inSync)
        try database.record([CheckRecord(machineID: "mch_a", checkedAt: t0 + 2_000, report: report, completedSlot: t0 + 500)])
        try database.record([CheckRecord(machineID: "mch_a", checkedAt: t0 + 3_000, completedSlot: t0 - 99_000)])
        machine = try #require(try database.machine(id: "mch_a"))
        #expect(machine.lastError == nil && machine.consecutiveFailures == 0)
        #expect(machine.report == report)
        #expect(machine.lastSlot == t0 + 500)
        #expect(machine.observed)
        // No transition recorded: the effective state is untouched by a report alone.
        #expect(machine.state == .unknown)
    }

    @Test("a check of a machine that is not configured creates its row")
    func unconfiguredMachine() throws {
        let database = try AppDatabase.inMemory()
        try database.record([checkRecord("ghost", report: makeReport("r", machine: "ghost", state: .drifted), previous: .unknown, at: t0)])
        #expect(try database.machine(id: "ghost")?.state == .drifted)
    }

    // MARK: Outbox

    /// Four events of machine A and one of B for hook-a, recorded in order.
    func outboxFixture(_ database: AppDatabase) throws -> (a: [String], b: String) {
        var previous = DriftState.unknown
        var events: [String] = []
        for index in 0..<4 {
            let state: ReportState = index.isMultiple(of: 2) ? .drifted : .inSync
            let check = checkRecord("mch_a", report: makeReport("rpt_a\(index)", machine: "mch_a", state: state), previous: previous,
                                    at: t0 + Int64(index) * 1_000)
            try database.record([check])
            events.append(check.transition!.eventID)
            previous = state.driftState
        }
        let b = checkRecord("mch_b", report: makeReport("rpt_b", machine: "mch_b", state: .drifted), previous: .unknown, at: t0 + 10_000)
        try database.record([b])
        return (events, b.transition!.eventID)
    }

    @Test("dueDeliveries returns only each machine's oldest pending event, in order")
    func outboxOrdering() throws {
        try withTemporaryDirectory { dir in
            let database = try AppDatabase.open(path: dir.appendingPathComponent("state.sqlite").path)
            let (a, b) = try outboxFixture(database)
            let now = t0 + 60_000
            var due = try database.dueDeliveries(webhook: "hook-a", now: now, limit: 100)
            #expect(due.map(\.eventID) == [a[0], b])
            #expect(try database.dueDeliveries(webhook: "hook-a", now: now, limit: 1).map(\.eventID) == [a[0]])
            #expect(try database.dueDeliveries(webhook: "other-hook", now: now, limit: 100).isEmpty)
            // Not yet due at its creation instant minus one.
            #expect(try database.dueDeliveries(webhook: "hook-a", now: t0 - 1, limit: 100).isEmpty)

            try database.markDelivered(seq: due[0].seq, attempts: 1, at: now)
            due = try database.dueDeliveries(webhook: "hook-a", now: now, limit: 100)
            #expect(due.map(\.eventID) == [a[1], b])
            try database.markFailed(seq: due[0].seq, attempts: 3, at: now, error: "HTTP 400")
            due = try database.dueDeliveries(webhook: "hook-a", now: now, limit: 100)
            #expect(due.map(\.eventID) == [a[2], b])

            // a[2] backs off for 100 s: a[3] behind it stays blocked, B is unaffected.
            try database.scheduleRetry(seq: due[0].seq, attempts: 1, nextAttemptAt: now + 100_000, error: "HTTP 503")
            #expect(try database.dueDeliveries(webhook: "hook-a", now: now, limit: 100).map(\.eventID) == [b])
            let retried = try database.dueDeliveries(webhook: "hook-a", now: now + 100_000, limit: 100)
            #expect(retried.map(\.eventID) == [a[2], b])
            #expect(retried[0].attempts == 1)
            #expect(retried[0].nextAttemptAt == now + 100_000)
            #expect(try database.deliveryCounts(webhook: "hook-a") == ["delivered": 1, "failed": 1, "pending": 3])
        }
    }

    @Test("nextDeliveryTime ignores events blocked behind an older pending one of the same machine")
    func nextDeliveryTimeIgnoresBlocked() throws {
        let database = try AppDatabase.inMemory()
        let (a, b) = try outboxFixture(database)
        #expect(try database.nextDeliveryTime(webhook: "hook-a") == t0)
        #expect(try database.nextDeliveryTime(webhook: "nobody") == nil)
        var head = try database.dueDeliveries(webhook: "hook-a", now: t0 + 60_000, limit: 100)
        #expect(head.map(\.eventID) == [a[0], b])
        try database.markDelivered(seq: head[1].seq, attempts: 1, at: t0)
        // A's head backs off to +1h; A's later events (created at t0+1s..t0+3s) are blocked behind it.
        try database.scheduleRetry(seq: head[0].seq, attempts: 4, nextAttemptAt: t0 + 3_600_000, error: "timeout")
        #expect(try database.nextDeliveryTime(webhook: "hook-a") == t0 + 3_600_000)
        head = try database.dueDeliveries(webhook: "hook-a", now: t0 + 3_600_000, limit: 100)
        try database.markDelivered(seq: head[0].seq, attempts: 5, at: t0 + 3_600_000)
        #expect(try database.nextDeliveryTime(webhook: "hook-a") == t0 + 1_000)
        for _ in 0..<3 {
            let next = try database.dueDeliveries(webhook: "hook-a", now: t0 + 3_600_000, limit: 100)
            #expect(next.count == 1)
            try database.markDelivered(seq: next[0].seq, attempts: 1, at: t0 + 3_600_000)
        }
        #expect(try database.nextDeliveryTime(webhook: "hook-a") == nil)
        #expect(try database.deliveryCounts(webhook: "hook-a") == ["delivered": 5])
    }

    // MARK: Journal bookkeeping

    @Test("unjournaled transitions are listed oldest first until marked journaled")
    func unjournaled() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let database = try AppDatabase.open(path: path)
            let (a, b) = try outboxFixture(database)
            let pending = try database.unjournaledTransitions()
            #expect(pending.map(\.transition.eventID) == a + [b])
            #expect(pending.map(\.seq) == pending.map(\.seq).sorted())
            #expect(try database.unjournaledTransitions(limit: 2).count == 2)
            try database.markJournaled(Array(pending.prefix(3).map(\.seq)))
            try database.markJournaled([])
            #expect(try database.unjournaledTransitions().map(\.transition.eventID) == [a[3], b])
            #expect(try database.transitions().map(\.journaled) == [true, true, true, false, false])
            #expect(try database.transitions(machineID: "mch_b").map(\.transition.eventID) == [b])
            // Survives a reopen (a crash between commit and journal re-journals only the rest).
            let reopened = try AppDatabase.open(path: path)
            #expect(try reopened.unjournaledTransitions().map(\.transition.eventID) == [a[3], b])
        }
    }

    // MARK: configureMachines

    @Test("configureMachines adds, renames, marks removed ones unconfigured and keeps their history")
    func configureMachines() throws {
        let database = try AppDatabase.inMemory()
        try database.configureMachines([("a", "A"), ("b", "B"), ("c", nil)])
        try database.record([checkRecord("b", report: makeReport("rb", machine: "b", state: .drifted), previous: .unknown, at: t0)])
        try database.configureMachines([("a", "A"), ("c", "C"), ("a", "A")])
        #expect(try database.machines().map(\.id) == ["a", "c"])
        #expect(try database.machine(id: "c")?.name == "C")
        let all = try database.machines(includeRemoved: true)
        #expect(all.map(\.id) == ["a", "b", "c"])
        let b = try #require(all.first { $0.id == "b" })
        #expect(!b.configured)
        #expect(b.state == .drifted && b.report?.id == "rb")
        #expect(try database.transitions(machineID: "b").count == 1)
        #expect(try database.deliveryCounts() == ["pending": 1])
        // Back in the config: same row, same state.
        try database.configureMachines([("b", nil)])
        #expect(try database.machines().map(\.id) == ["b"])
        let back = try #require(try database.machine(id: "b"))
        #expect(back.configured && back.state == .drifted && back.name == nil)
        try database.configureMachines([])
        #expect(try database.machines().isEmpty)
        #expect(try database.machines(includeRemoved: true).count == 3)
    }

    // MARK: Refusing files that are not ours

    @Test("another application's SQLite database is refused as foreign and left byte-for-byte untouched", arguments: ["rollback", "wal"])
    func foreignDatabase(journal: String) throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("other-app.sqlite").path
            do {
                let queue = try DatabaseQueue(path: path)
                try queue.write { db in
                    if journal == "wal" { try db.execute(sql: "PRAGMA journal_mode = WAL") }
                    try db.execute(sql: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('alice')")
                }
                try queue.close()
            }
            let before = try fileBytes(path)
            let listing = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()

            let error = storeError { _ = try AppDatabase.open(path: path) }
            guard case .foreign(let reported) = error else {
                Issue.record("expected .foreign, got \(String(describing: error))")
                return
            }
            #expect(reported == path)
            #expect(error?.description.contains("not an akua-driftd state file") == true)
            guard case .foreign = storeError({ _ = try AppDatabase.openReadOnly(path: path) }) else {
                Issue.record("openReadOnly accepted a foreign file")
                return
            }
            #expect(try fileBytes(path) == before, "the foreign file was modified")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == listing)
            let (users, applicationID) = try DatabaseQueue(path: path).read { db in
                (try String.fetchAll(db, sql: "SELECT name FROM users"), try Int32.fetchOne(db, sql: "PRAGMA application_id"))
            }
            #expect(users == ["alice"])
            #expect(applicationID == 0)
        }
    }

    @Test("an empty SQLite database with another application_id is refused")
    func foreignApplicationID() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("other.sqlite").path
            do {
                let queue = try DatabaseQueue(path: path)
                try queue.write { try $0.execute(sql: "PRAGMA application_id = 1234") }
                try queue.close()
            }
            let before = try fileBytes(path)
            guard case .foreign = storeError({ _ = try AppDatabase.open(path: path) }) else {
                Issue.record("accepted another application's (empty) database")
                return
            }
            #expect(try fileBytes(path) == before)
        }
    }

    @Test("a file of random bytes is refused as corrupt and left untouched", arguments: [1, 50, 100, 4_096, 65_536])
    func randomBytes(size: Int) throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            var rng = SplitMix64(seed: UInt64(size))
            let bytes = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) })
            try bytes.write(to: URL(fileURLWithPath: path))
            let error = storeError { _ = try AppDatabase.open(path: path) }
            guard case .corrupt(let reported, _) = error else {
                Issue.record("expected .corrupt, got \(String(describing: error))")
                return
            }
            #expect(reported == path)
            #expect(error?.description.contains("refusing to overwrite") == true)
            guard case .corrupt = storeError({ _ = try AppDatabase.openReadOnly(path: path) }) else {
                Issue.record("openReadOnly accepted a corrupt file")
                return
            }
            #expect(try fileBytes(path) == bytes)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["state.sqlite"])
        }
    }

    @Test("an empty file (touch state.sqlite) becomes a new state file")
    func emptyFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            let database = try AppDatabase.open(path: path)
            try database.configureMachines([("mch_a", nil)])
            #expect(try database.integrityCheck() == "ok")
            #expect(try AppDatabase.openReadOnly(path: path).machines().count == 1)
        }
    }

    @Test("a SQLite file with a valid header but garbage pages is refused as corrupt")
    func garbagePages() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            do { _ = try AppDatabase.open(path: path) }
            var bytes = try fileBytes(path)
            #expect(bytes.count >= 4_096 * 2)
            // Keep the 100-byte header, scribble over the rest.
            var rng = SplitMix64(seed: 9)
            for index in 100..<bytes.count { bytes[index] = UInt8.random(in: 0...255, using: &rng) }
            try bytes.write(to: URL(fileURLWithPath: path))
            let error = storeError {
                let database = try AppDatabase.open(path: path)
                if try database.integrityCheck() != "ok" { throw StoreError.corrupt(path: path, detail: "integrity_check") }
            }
            guard case .corrupt = error else {
                Issue.record("expected .corrupt, got \(String(describing: error))")
                return
            }
        }
    }

    @Test("a file written by a newer version (unknown migration) is refused")
    func newerSchema() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            do { _ = try AppDatabase.open(path: path) }
            do {
                let queue = try DatabaseQueue(path: path)
                try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9: from the future')") }
                try queue.close()
            }
            guard case .newerSchema(_, let migration) = storeError({ _ = try AppDatabase.open(path: path) }) else {
                Issue.record("a newer schema was accepted")
                return
            }
            #expect(migration == "v9: from the future")
        }
    }

    @Test("a missing file cannot be opened read-only; a path in a missing directory cannot be opened at all")
    func missingFiles() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("none.sqlite").path
            guard case .cannotOpen(let reported, _) = storeError({ _ = try AppDatabase.openReadOnly(path: path) }) else {
                Issue.record("opened a missing file read-only")
                return
            }
            #expect(reported == path)
            #expect(!FileManager.default.fileExists(atPath: path))
            guard case .cannotOpen = storeError({ _ = try AppDatabase.open(path: dir.appendingPathComponent("no/such/dir/state.sqlite").path) }) else {
                Issue.record("opened a file in a missing directory")
                return
            }
        }
    }

    // MARK: Concurrent reader

    @Test("openReadOnly sees what a concurrent writer commits (WAL), and cannot write")
    func readOnlyConcurrentReader() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let writer = try AppDatabase.open(path: path)
            try writer.configureMachines([("mch_a", "web-a")])
            let reader = try AppDatabase.openReadOnly(path: path)
            #expect(try reader.machines().map(\.id) == ["mch_a"])
            #expect(try reader.machine(id: "mch_a")?.state == .unknown)

            try writer.record([checkRecord("mch_a", report: makeReport("r1", machine: "mch_a", state: .drifted), previous: .unknown, at: t0)])
            #expect(try reader.machine(id: "mch_a")?.state == .drifted)
            try writer.record([checkRecord("mch_a", report: makeReport("r2", machine: "mch_a", state: .inSync), previous: .drifted, at: t0 + 1)])
            #expect(try reader.machine(id: "mch_a")?.state == .inSync)
            #expect(try reader.transitions().count == 2)
            #expect(try reader.integrityCheck() == "ok")

            #expect(throws: (any Error).self) { try reader.configureMachines([("mch_x", nil)]) }
            #expect(try writer.machines().map(\.id) == ["mch_a"])
        }
    }

    @Test("a concurrent reader never sees a state without its transition (or the reverse)")
    func readerSeesAtomicWrites() async throws {
        try await withTemporaryDirectoryAsync { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            let writer = try AppDatabase.open(path: path)
            try writer.configureMachines([("mch_a", nil)])
            let rounds = 300
            let writing = Task.detached {
                var previous = DriftState.unknown
                for index in 0..<rounds {
                    let state: ReportState = index.isMultiple(of: 2) ? .drifted : .inSync
                    try writer.record([checkRecord("mch_a", report: makeReport("r\(index)", machine: "mch_a", state: state), previous: previous, at: t0 + Int64(index))])
                    previous = state.driftState
                }
            }
            var configuration = Configuration()
            configuration.readonly = true
            let reader = try DatabaseQueue(path: path, configuration: configuration)
            var snapshots = 0
            while snapshots < 2_000 {
                let (state, last, deliveries, transitions): (String?, String?, Int, Int) = try await reader.read { db in
                    (try String.fetchOne(db, sql: "SELECT state FROM machine WHERE id = 'mch_a'"),
                     try String.fetchOne(db, sql: "SELECT state FROM transition_log ORDER BY seq DESC LIMIT 1"),
                     try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery") ?? -1,
                     try Int.fetchOne(db, sql: "SELECT count(*) FROM transition_log") ?? -1)
                }
                #expect(state == (last ?? "unknown"))
                #expect(deliveries == transitions)
                snapshots += 1
                if transitions == rounds { break }
            }
            try await writing.value
            #expect(try writer.transitions().count == rounds)
        }
    }
}

/// `withTemporaryDirectory` for async bodies.
func withTemporaryDirectoryAsync<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("driftstore-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}
