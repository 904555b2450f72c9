import DriftCore
import Foundation

/// What the service formats show of the policy's events: a drift change's added and removed attributes,
/// and a group's machines (one line each, the list capped with "and N more").
extension StoredEvent {
    /// A `changed` event's attribute names that now differ and no longer differ, sorted.
    var attributeChange: (added: [String], removed: [String]) {
        let now = Set(data.attributes ?? []), before = Set(data.previous_attributes ?? [])
        return (now.subtracting(before).sorted(), before.subtracting(now).sorted())
    }

    /// The headline without the machine: "in_sync → unknown", "is still drifted (...)".
    var change: String {
        let text = headline(label: "")
        return text.hasPrefix(": ") ? String(text.dropFirst(2)) : text.trimmingCharacters(in: .whitespaces)
    }

    /// A group's member events, oldest first.
    var members: [StoredEvent] { data.events ?? [] }

    /// One machine of a group: its label (name cut short, id in full), its latest state, the headline of
    /// its latest event and how many of the group's events are about it.
    struct GroupMachine {
        var machineID: String
        var label: String
        var state: String
        var line: String
        /// The latest event without the machine's name: "in_sync → unknown".
        var change: String
        var events: Int
    }

    /// A group's machines in order of first appearance, each with its latest event (a machine that changed
    /// twice within the window is one entry).
    var groupMachines: [GroupMachine] {
        var order: [String] = []
        var byMachine: [String: GroupMachine] = [:]
        for member in members {
            let key = member.machineID
            if var known = byMachine[key] {
                known.state = member.state
                known.line = member.headline(label: member.shortLabel)
                known.change = member.change
                known.events += 1
                byMachine[key] = known
            } else {
                order.append(key)
                byMachine[key] = GroupMachine(
                    machineID: key, label: member.shortLabel, state: member.state, line: member.headline(label: member.shortLabel),
                    change: member.change, events: 1)
            }
        }
        return order.compactMap { byMachine[$0] }
    }

    /// "3 machines changed: 2 unknown, 1 in sync"; machines whose latest event is a reminder are counted
    /// apart ("...; still 1 drifted"), or alone: "2 machines still not in sync: 1 drifted, 1 unknown".
    var groupHeadline: String {
        let machines = groupMachines
        guard !machines.isEmpty else { return "No machine changed" }
        let reminded = Set(members.filter { $0.kind == "reminder" }.map(\.machineID))
        let latestIsReminder = { (machine: GroupMachine) in
            reminded.contains(machine.machineID) && members.last { $0.machineID == machine.machineID }?.kind == "reminder"
        }
        let changed = machines.filter { !latestIsReminder($0) }, still = machines.filter(latestIsReminder)
        func noun(_ count: Int) -> String { count == 1 ? "1 machine" : "\(count) machines" }
        if changed.isEmpty { return "\(noun(still.count)) still not in sync: \(Self.tally(still))" }
        let head = "\(noun(changed.count)) changed: \(Self.tally(changed))"
        return still.isEmpty ? head : head + "; still \(Self.tally(still))"
    }

    /// "2 unknown, 1 in sync": machines by state, most first (ties: drifted, unknown, in sync).
    static func tally(_ machines: [GroupMachine]) -> String {
        var counts: [String: Int] = [:]
        for machine in machines { counts[machine.state, default: 0] += 1 }
        let order = ["drifted", "unknown", "in_sync"]
        return counts.sorted { a, b in
            a.value != b.value ? a.value > b.value : (order.firstIndex(of: a.key) ?? 3, a.key) < (order.firstIndex(of: b.key) ?? 3, b.key)
        }.map { "\($0.value) \($0.key.replacingOccurrences(of: "_", with: " "))" }.joined(separator: ", ")
    }

    /// Lines for a group's machines: as many as fit in `characters` (newline-joined) and `count`, each
    /// line clipped to `lineLimit`, and how many machines were left out ("and N more").
    func groupLines(
        count: Int, characters: Int, lineLimit: Int = 200, line render: (GroupMachine) -> String = { $0.line }
    ) -> (lines: [String], more: Int) {
        let machines = groupMachines
        var lines: [String] = []
        var used = 0
        // Room for the "… and N more" line that may follow.
        let reserve = 40
        for (index, machine) in machines.enumerated() {
            var text = render(machine)
            if machine.events > 1 { text += " (\(machine.events) changes)" }
            text = Self.clip(text, lineLimit)
            let cost = text.count + (lines.isEmpty ? 0 : 1)
            let last = index == machines.count - 1
            guard lines.count < count, used + cost + (last ? 0 : reserve) <= characters else { break }
            lines.append(text)
            used += cost
        }
        return (lines, machines.count - lines.count)
    }

    /// "and 3 more" for a capped list.
    static func more(_ count: Int) -> String { "… and \(count) more" }
}
