/// What a reload changes in the watched set, so the state file is touched only for those machines.
struct MachineSetChange {
    /// Added machines and machines whose name changed.
    var upserts: [(id: String, name: String?)] = []
    /// Machines that are new to the watched set (their bookkeeping is read from the state file).
    var added: [String] = []
    /// Machines no longer configured.
    var removed: [String] = []

    init(from old: [EngineSettings.Machine], to new: [EngineSettings.Machine]) {
        var previous: [String: String?] = [:]
        previous.reserveCapacity(old.count)
        for machine in old { previous[machine.id] = machine.name }
        var kept = Set<String>()
        kept.reserveCapacity(new.count)
        for machine in new {
            kept.insert(machine.id)
            if let name = previous[machine.id] {
                if name != machine.name { upserts.append((machine.id, machine.name)) }
            } else {
                upserts.append((machine.id, machine.name))
                added.append(machine.id)
            }
        }
        if kept.count != previous.count || previous.keys.contains(where: { !kept.contains($0) }) {
            removed = previous.keys.filter { !kept.contains($0) }
        }
    }
}
