import DriftCore
import Testing

@testable import DriftDaemon

/// `MachineSetChange` compares the common head and tail of the old and new machine lists in place and
/// matches only the middle by id. The oracle is the definition, written here with plain set membership:
/// added = new ids not in old; removed = old ids not in new; upserts = added plus renamed; rescheduled =
/// added plus those whose interval changed; all in the new list's order (removed as a set).
@Suite struct MachineSetChangeTests {
    typealias Machine = EngineSettings.Machine

    struct Expected: Equatable {
        var upserts: [String]
        var added: [String]
        var removed: Set<String>
        var rescheduled: [String]
    }

    static func expected(_ old: [Machine], _ new: [Machine]) -> Expected {
        let before = Dictionary(uniqueKeysWithValues: old.map { ($0.id, $0) })
        let newIDs = Set(new.map(\.id))
        return Expected(
            upserts: new.filter { machine in before[machine.id].map { $0.name != machine.name } ?? true }.map(\.id),
            added: new.filter { before[$0.id] == nil }.map(\.id),
            removed: Set(old.map(\.id).filter { !newIDs.contains($0) }),
            rescheduled: new.filter { machine in before[machine.id].map { $0.intervalMs != machine.intervalMs } ?? true }.map(\.id))
    }

    static func actual(_ change: MachineSetChange) -> Expected {
        Expected(
            upserts: change.upserts.map(\.id), added: change.added, removed: Set(change.removed),
            rescheduled: change.rescheduled.map(\.id))
    }

    @Test("a seeded series of reloads (renames, new intervals, machines added, removed and moved anywhere) gives the defined change", arguments: [UInt64(1), 2, 3, 4])
    func matchesDefinition(seed: UInt64) {
        print("MachineSetChangeTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        var old = (0..<60).map { Machine(id: "mch_\($0)", name: "m\($0)", intervalMs: 60_000) }
        var next = 60
        for round in 0..<400 {
            var new = old
            for _ in 0...(rng.next() % 4) {
                guard !new.isEmpty else { break }
                let at = Int(rng.next() % UInt64(new.count))
                switch rng.next() % 6 {
                case 0: new[at].name = rng.next() % 3 == 0 ? nil : "renamed\(round)"
                case 1: new[at].intervalMs = [30_000, 60_000, 300_000][Int(rng.next() % 3)]
                case 2:
                    new.insert(Machine(id: "mch_\(next)", name: nil, intervalMs: 60_000), at: Int(rng.next() % UInt64(new.count + 1)))
                    next += 1
                case 3: new.remove(at: at)
                case 4: new.insert(new.remove(at: at), at: Int(rng.next() % UInt64(new.count + 1)))
                default: new.swapAt(at, Int(rng.next() % UInt64(new.count)))
                }
            }
            if rng.next() % 50 == 0 { new = [] }
            #expect(Self.actual(MachineSetChange(from: old, to: new)) == Self.expected(old, new), "seed \(seed), round \(round)")
            old = new.isEmpty ? [Machine(id: "mch_\(next)", name: nil, intervalMs: 60_000)] : new
            next += 1
        }
    }

    @Test("the edges: identical lists, all new, all removed, a change at the first and at the last place")
    func edges() {
        let base = (0..<5).map { Machine(id: "mch_\($0)", name: nil, intervalMs: 60_000) }
        var first = base
        first[0].name = "a"
        var last = base
        last[4].intervalMs = 1_000
        let fresh = (5..<8).map { Machine(id: "mch_\($0)", name: nil, intervalMs: 60_000) }
        for (old, new) in [(base, base), ([], base), (base, []), (base, first), (base, last), (base, fresh), (base, base.reversed())] {
            #expect(Self.actual(MachineSetChange(from: old, to: new)) == Self.expected(old, new), "\(old.map(\.id)) -> \(new.map(\.id))")
        }
        #expect(Self.actual(MachineSetChange(from: base, to: first)).upserts == ["mch_0"])
        #expect(Self.actual(MachineSetChange(from: base, to: last)).rescheduled == ["mch_4"])
    }
}
