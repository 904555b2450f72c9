/// What a reload changes in the watched set, so the state file is touched only for those machines.
struct MachineSetChange {
    /// Added machines and machines whose name changed.
    var upserts: [(id: String, name: String?)] = []
    /// Machines that are new to the watched set (their bookkeeping is read from the state file).
    var added: [String] = []
    /// Machines no longer configured.
    var removed: [String] = []
    /// Machines the scheduler must (re)place: added ones and those whose interval changed.
    var rescheduled: [EngineSettings.Machine] = []

    /// Ids are unique within each list (the config refuses duplicates), so a machine at the same place in
    /// both (the common head and tail of the lists: all of a typical reload) is compared in place, and only
    /// the part between them is matched by id. Hashing 100,000 ids three times was a quarter of a reload.
    init(from old: [EngineSettings.Machine], to new: [EngineSettings.Machine]) {
        var head = 0
        while head < old.count, head < new.count, old[head].id == new[head].id { head += 1 }
        var tail = 0
        while tail < old.count - head, tail < new.count - head, old[old.count - 1 - tail].id == new[new.count - 1 - tail].id {
            tail += 1
        }
        for index in 0..<head { compare(old[index], new[index]) }
        diff(old[head..<(old.count - tail)], new[head..<(new.count - tail)])
        for offset in (0..<tail).reversed() { compare(old[old.count - 1 - offset], new[new.count - 1 - offset]) }
    }

    /// The same machine before and after.
    private mutating func compare(_ before: EngineSettings.Machine, _ machine: EngineSettings.Machine) {
        if before.name != machine.name { upserts.append((machine.id, machine.name)) }
        if before.intervalMs != machine.intervalMs { rescheduled.append(machine) }
    }

    /// Matches the machines of two lists by id (in `new`'s order).
    private mutating func diff(_ old: ArraySlice<EngineSettings.Machine>, _ new: ArraySlice<EngineSettings.Machine>) {
        guard !old.isEmpty || !new.isEmpty else { return }
        var previous: [String: EngineSettings.Machine] = [:]
        previous.reserveCapacity(old.count)
        for machine in old { previous[machine.id] = machine }
        for machine in new {
            if let before = previous.removeValue(forKey: machine.id) {
                compare(before, machine)
            } else {
                upserts.append((machine.id, machine.name))
                added.append(machine.id)
                rescheduled.append(machine)
            }
        }
        removed = old.map(\.id).filter { previous[$0] != nil }
    }
}
