import Synchronization

// MARK: - Reports: create (with idempotency), get, list; counters

extension SimulatorState {
    /// Creates a report (or replays / rejects per the idempotency key) atomically. A new report keeps
    /// `bodyFault` (sticky bad body) and `oddFields`; a replay returns the bound report as it was.
    func createReport(
        machineID: String, idempotencyKey: String?, trigger: String?, bodyFault: BodyFault? = nil, oddFields: Bool = false
    ) -> CreateOutcome {
        let realNow = clock()
        let serverNow = realNow + Double(clockSkew)
        return storage.withLock { s in
            guard var record = s.machines[machineID] else { return .unknownMachine }
            if let key = idempotencyKey, let binding = s.keys[key]?.binding,
                realNow - binding.boundAt < Double(idempotencyTTLSeconds)
            {
                if binding.machineID == machineID && binding.trigger == trigger {
                    return .replayed(binding.report)
                }
                s.conflictsTotal += 1
                return .conflict
            }
            // Avoid copy-on-write of the report array while the record is out of the dictionary.
            s.machines[machineID] = nil
            let state = Self.currentState(of: &record, now: realNow, startTime: startTime)
            var report = makeReport(record: record, state: state, now: serverNow, storage: &s)
            report.bodyFault = bodyFault
            report.oddFields = oddFields
            record.reports.append(report)
            let sequence = record.reportBase + record.reports.count - 1
            s.reportIndex[report.id] = (machineID, sequence)
            if record.reports.count >= 2 * reportHistoryLimit {
                let dropCount = record.reports.count - reportHistoryLimit
                for old in record.reports[..<dropCount] { s.reportIndex.removeValue(forKey: old.id) }
                record.reports.removeFirst(dropCount)
                record.reportBase += dropCount
            }
            s.machines[machineID] = record
            s.createsTotal += 1
            s.reportsByMachine[machineID, default: 0] += 1
            if let key = idempotencyKey {
                s.keys[key, default: KeyRecord()].reports += 1
                s.keys[key]?.binding = KeyBinding(machineID: machineID, trigger: trigger, report: report, boundAt: realNow)
            }
            return .created(report)
        }
    }

    private func makeReport(record: MachineRecord, state: ReportStateName, now: Double, storage s: inout Storage) -> StoredReport {
        let counter = s.reportCounter
        s.reportCounter &+= 1
        // Bijective in the counter (ids never collide within a run); the start time keeps ids of
        // separate runs apart (a daemon may keep its database across simulator restarts), while an
        // injected clock keeps them reproducible in tests.
        let unique = SplitMix64.mix(counter ^ runSalt)
        let created = Int64(now.rounded(.down))
        return StoredReport(
            id: "drf_" + ReportIDs.encode(unique: unique),
            machineID: record.machine.id,
            machineName: record.machine.name,
            state: state,
            etag: ReportIDs.hex16(SplitMix64.mix(unique ^ (state == .drifted ? 0xD1 : 0x51))),
            createdAt: created,
            startedAt: created,
            expiresAt: created + s.ttlSeconds,
            variant: SplitMix64.mix(unique ^ 0xDE17A),
            pinnedAttributes: state == .drifted ? record.pinnedAttributes : nil
        )
    }

    private static func currentState(of record: inout MachineRecord, now: Double, startTime: Double) -> ReportStateName {
        switch record.machine.scenario {
        case .fixed(let state):
            return state
        case .flip(let every, let first):
            let period = ((now - startTime) / every).rounded(.down)
            let odd = abs(period.truncatingRemainder(dividingBy: 2)) == 1
            return odd ? first.flipped : first
        case .random(_, let probability):
            return record.rng.nextUnit() < probability ? .drifted : .inSync
        }
    }

    enum ReportLookup: Sendable {
        case found(StoredReport)
        case unknownMachine
        case unknownReport
    }

    func report(machineID: String, reportID: String) -> ReportLookup {
        storage.withLock { s in
            guard let record = s.machines[machineID] else { return .unknownMachine }
            guard let (owner, sequence) = s.reportIndex[reportID], owner == machineID else { return .unknownReport }
            let index = sequence - record.reportBase
            guard index >= 0, index < record.reports.count else { return .unknownReport }
            return .found(record.reports[index])
        }
    }

    enum ReportPage: Sendable {
        case page([StoredReport], next: Int?)
        case unknownMachine
    }

    /// Newest-first page of a machine's reports starting at sequence number `before` (exclusive upper bound).
    func listReports(machineID: String, before: Int?, limit: Int, state: ReportStateName?) -> ReportPage {
        storage.withLock { s in
            guard let record = s.machines[machineID] else { return .unknownMachine }
            var page: [StoredReport] = []
            page.reserveCapacity(min(limit, record.reports.count))
            let end = record.reportBase + record.reports.count
            var sequence = min(before ?? end, end) - 1
            while sequence >= record.reportBase {
                let report = record.reports[sequence - record.reportBase]
                if state == nil || report.state == state {
                    if page.count == limit { return .page(page, next: sequence + 1) }
                    page.append(report)
                }
                sequence -= 1
            }
            return .page(page, next: nil)
        }
    }

    // MARK: - Stats

    func stats() -> SimulatorStats {
        storage.withLock { s in
            var requestsByKey: [String: Int] = [:]
            var reportsByKey: [String: Int] = [:]
            requestsByKey.reserveCapacity(s.keys.count)
            reportsByKey.reserveCapacity(s.keys.count)
            for (key, record) in s.keys {
                requestsByKey[key] = record.requests
                if record.reports > 0 { reportsByKey[key] = record.reports }
            }
            return SimulatorStats(
                createsTotal: s.createsTotal,
                requestsTotal: s.requestsTotal,
                reportsByMachine: s.reportsByMachine,
                requestsByKey: requestsByKey,
                reportsByKey: reportsByKey,
                conflictsTotal: s.conflictsTotal,
                faultsByKind: s.faultsByKind
            )
        }
    }
}

/// Report id, etag and cursor encodings.
enum ReportIDs {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// 24 lowercase base32 characters; the first 13 encode `unique` bijectively, so ids never collide.
    static func encode(unique: UInt64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        var value = unique
        for _ in 0..<13 {
            bytes.append(alphabet[Int(value & 31)])
            value >>= 5
        }
        var filler = SplitMix64.mix(unique ^ 0x5EED)
        for _ in 0..<11 {
            bytes.append(alphabet[Int(filler & 31)])
            filler >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hex16(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
