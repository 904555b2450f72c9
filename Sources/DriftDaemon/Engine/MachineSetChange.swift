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

    init(from old: [EngineSettings.Machine], to new: [EngineSettings.Machine]) {
        var previous: [String: (name: String?, intervalMs: Int64)] = [:]
        previous.reserveCapacity(old.count)
        for machine in old { previous[machine.id] = (machine.name, machine.intervalMs) }
        var kept = Set<String>()
        kept.reserveCapacity(new.count)
        for machine in new {
            kept.insert(machine.id)
            if let before = previous[machine.id] {
                if before.name != machine.name { upserts.append((machine.id, machine.name)) }
                if before.intervalMs != machine.intervalMs { rescheduled.append(machine) }
            } else {
                upserts.append((machine.id, machine.name))
                added.append(machine.id)
                rescheduled.append(machine)
            }
        }
        if kept.count != previous.count || previous.keys.contains(where: { !kept.contains($0) }) {
            removed = previous.keys.filter { !kept.contains($0) }
        }
    }
}
