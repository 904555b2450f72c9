import DriftCore
import Foundation
import TOMLKit

/// `[[maintenance]]` blocks: recurring weekly windows (days, from, to, timezone, optional machines).
/// Machine ids are checked against every machine, drop-ins included, once all are read
/// (`unknownMaintenanceMachines`).
extension ConfigValidator {
    mutating func validateMaintenance(_ tables: [(TOMLPath, TOMLTable)]) -> [MaintenanceWindow] {
        var windows: [MaintenanceWindow] = []
        for (path, table) in tables {
            if let window = validateWindow(table, path: path) { windows.append(window) }
        }
        return windows
    }

    private mutating func validateWindow(_ table: TOMLTable, path: TOMLPath) -> MaintenanceWindow? {
        checkKeys(table, path: path, known: ConfigSchema.maintenance)
        guard case .index(let index) = path.last else { return nil }
        let machines = maintenanceMachines(table, path)
        let days = weekdays(table, path)
        let from = wallClock(table, path, "from")
        let to = wallClock(table, path, "to")
        var timeZoneName: String? = "UTC"
        if table["timezone"] != nil {
            timeZoneName = string(table, path, "timezone")
            if let name = timeZoneName, !Self.isTimeZoneName(name) {
                sink.error(
                    path.appending("timezone"),
                    "unknown time zone \(TOMLPathFormat.quoted(name)) (use an IANA name such as \"Europe/Berlin\" or \"UTC\")")
                timeZoneName = nil
            }
        }
        if let from, let to, from == to {
            sink.error(
                path.appending("to"),
                "equals from (\(MaintenanceWindow.clock(from))): the window would be empty (a to earlier than from ends the next day)")
            return nil
        }
        guard let machines, let days, let from, let to, let timeZoneName else { return nil }
        return MaintenanceWindow(
            number: index + 1, machineIDs: machines, days: days, fromMinute: from, toMinute: to,
            timeZoneName: timeZoneName)
    }

    /// An IANA time zone name Foundation knows; not a bare offset such as "GMT+1" (it has no DST and is
    /// easily misread: IANA's "Etc/GMT+1" is one hour *behind* UTC).
    static func isTimeZoneName(_ name: String) -> Bool {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && !isControl($0) }) else { return false }
        let upper = name.uppercased()
        if (upper.hasPrefix("GMT") || upper.hasPrefix("UTC")) && name.count > 3 { return false }
        return TimeZone(identifier: name) != nil
    }

    /// `machines`: optional, but when present a non-empty list of distinct ids (`.some(nil)`: every machine;
    /// nil: invalid, reported).
    private mutating func maintenanceMachines(_ table: TOMLTable, _ path: TOMLPath) -> [String]?? {
        guard let value = table["machines"]?.tomlValue else { return .some(nil) }
        let keyPath = path.appending("machines")
        guard value.type == .array, let array = value.array else {
            sink.error(keyPath, "expected an array of machine ids, got \(Self.typeName(value.type))")
            return nil
        }
        if array.isEmpty {
            sink.error(keyPath, "must list at least one machine id (or leave it out for every machine)")
            return nil
        }
        var ids: [String] = []
        var valid = true
        for index in 0..<array.count {
            let elementPath = keyPath.appending(index: index)
            let element = array[index].tomlValue
            guard element.type == .string, let id = element.string else {
                sink.error(elementPath, "expected a machine id (a string), got \(Self.typeName(element.type))")
                valid = false
                continue
            }
            guard checkLength(id, ConfigSchema.machineIDLength, elementPath), checkNoControl(id, elementPath) else {
                valid = false
                continue
            }
            if ids.contains(id) {
                sink.error(elementPath, "machine \(TOMLPathFormat.quoted(id)) is listed twice")
                valid = false
                continue
            }
            ids.append(id)
        }
        return valid ? .some(ids) : nil
    }

    /// `days`: required, a non-empty list of distinct `mon` ... `sun`.
    private mutating func weekdays(_ table: TOMLTable, _ path: TOMLPath) -> Set<MaintenanceWindow.Weekday>? {
        let keyPath = path.appending("days")
        guard let value = table["days"]?.tomlValue else {
            sink.error(keyPath, "missing required key \"days\" (the days a window starts on, e.g. [\"sat\", \"sun\"])")
            return nil
        }
        guard value.type == .array, let array = value.array else {
            sink.error(keyPath, "expected an array of days (\"mon\" ... \"sun\"), got \(Self.typeName(value.type))")
            return nil
        }
        if array.isEmpty {
            sink.error(keyPath, "must list at least one day (\"mon\" ... \"sun\")")
            return nil
        }
        let names = MaintenanceWindow.Weekday.allCases.map(\.name)
        var days = Set<MaintenanceWindow.Weekday>()
        var valid = true
        for index in 0..<array.count {
            let elementPath = keyPath.appending(index: index)
            let element = array[index].tomlValue
            guard element.type == .string, let name = element.string else {
                sink.error(elementPath, "expected a day (a string), got \(Self.typeName(element.type))")
                valid = false
                continue
            }
            guard let day = MaintenanceWindow.Weekday(name: name) else {
                var message = "unknown day \(TOMLPathFormat.quoted(name)) (use \(names.map { "\"\($0)\"" }.joined(separator: ", ")))"
                let short = String(name.lowercased().prefix(3))
                if short != name, names.contains(short) { message = "unknown day \(TOMLPathFormat.quoted(name)); did you mean \"\(short)\"?" }
                sink.error(elementPath, message)
                valid = false
                continue
            }
            if !days.insert(day).inserted {
                sink.error(elementPath, "day \"\(name)\" is listed twice")
                valid = false
            }
        }
        return valid ? days : nil
    }

    /// `from` / `to`: required "HH:MM" (00:00 to 23:59), in minutes after midnight. A TOML local time
    /// (`from = 02:00:00`, unquoted) is accepted when it has no seconds.
    private mutating func wallClock(_ table: TOMLTable, _ path: TOMLPath, _ key: String) -> Int? {
        let keyPath = path.appending(key)
        guard let value = table[key]?.tomlValue else {
            sink.error(keyPath, "missing required key \"\(key)\" (a local time \"HH:MM\")")
            return nil
        }
        if value.type == .time, let time = value.time {
            guard time.second == 0, time.nanoSecond == 0, (0..<24).contains(time.hour), (0..<60).contains(time.minute) else {
                sink.error(keyPath, "must be a whole minute \"HH:MM\"")
                return nil
            }
            return time.hour * 60 + time.minute
        }
        guard value.type == .string, let text = value.string else {
            sink.error(keyPath, "expected a local time \"HH:MM\", got \(Self.typeName(value.type))")
            return nil
        }
        let bytes = Array(text.utf8)
        let digit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        guard bytes.count == 5, digit(bytes[0]), digit(bytes[1]), bytes[2] == 0x3A, digit(bytes[3]), digit(bytes[4]) else {
            sink.error(keyPath, "invalid time \(TOMLPathFormat.quoted(text)) (use \"HH:MM\", 24-hour, e.g. \"02:00\" or \"22:30\")")
            return nil
        }
        let hours = Int(bytes[0] - 0x30) * 10 + Int(bytes[1] - 0x30)
        let minutes = Int(bytes[3] - 0x30) * 10 + Int(bytes[4] - 0x30)
        if hours == 24, minutes == 0 {
            sink.error(keyPath, "invalid time \"24:00\" (write \"00:00\": a to earlier than from ends the next day)")
            return nil
        }
        guard hours < 24, minutes < 60 else {
            sink.error(keyPath, "invalid time \(TOMLPathFormat.quoted(text)) (hours 00-23, minutes 00-59)")
            return nil
        }
        return hours * 60 + minutes
    }

    /// Reports the windows' machine ids that none of `config.machines` has (a config without drop-ins).
    mutating func checkMaintenanceMachines(_ config: DaemonConfig) {
        for (path, message) in Self.unknownMaintenanceMachines(config.maintenance, machines: config.machines) {
            sink.error(path, message)
        }
    }

    /// The windows' machine ids that no machine of `machines` has, with their paths and messages.
    static func unknownMaintenanceMachines(
        _ windows: [MaintenanceWindow], machines: [MachineSettings]
    ) -> [(path: TOMLPath, message: String)] {
        // A set only when a window names machines: a million ids cost a moment to hash.
        guard windows.contains(where: { $0.machineIDs != nil }) else { return [] }
        let known = Set(machines.map(\.id))
        return unknownMaintenanceMachines(windows, isKnown: known.contains)
    }

    /// The windows' machine ids that no `[[machine]]` defines, with their paths (`maintenance[0].machines[1]`)
    /// and messages. `isKnown` answers for every machine of the config and its drop-ins.
    static func unknownMaintenanceMachines(
        _ windows: [MaintenanceWindow], isKnown: (String) -> Bool
    ) -> [(path: TOMLPath, message: String)] {
        var found: [(path: TOMLPath, message: String)] = []
        for window in windows {
            for (index, id) in (window.machineIDs ?? []).enumerated() where !isKnown(id) {
                let path: TOMLPath = [.key("maintenance"), .index(window.number - 1), .key("machines"), .index(index)]
                found.append((path, "unknown machine id \(TOMLPathFormat.quoted(id)): no [[machine]] block (here or in machines.d) has it"))
            }
        }
        return found
    }
}
