import DriftCore
import TOMLKit

/// The notification policy's keys (`confirm`, `for`, `repeat_interval`, `ignore_attributes`, `group_wait`)
/// in `[notify]`, a `[[webhook]]` or a `[[machine]]`: one level of `NotifyOverrides` as written.
extension ConfigValidator {
    /// `[notify]`.
    mutating func validateNotify(_ table: TOMLTable) -> NotifyOverrides {
        let path: TOMLPath = [.key("notify")]
        checkKeys(table, path: path, known: ConfigSchema.notify)
        var overrides = notifyOverrides(table, path)
        overrides.groupWaitMs = groupWait(table, path)
        return overrides
    }

    /// A `[[machine]]` block with more than id, name and interval: its keys checked, its notification keys.
    mutating func machineNotify(_ table: TOMLTable, _ path: TOMLPath) -> NotifyOverrides {
        let groupWait = table.contains(key: "group_wait")
        checkKeys(table, path: path, known: ConfigSchema.machine + (groupWait ? ["group_wait"] : []))
        if groupWait {
            sink.error(
                path.appending("group_wait"),
                "group_wait is a receiver's setting: set it in [notify] or a [[webhook]], not per machine")
        }
        return notifyOverrides(table, path)
    }

    /// The keys of one level, without `group_wait` (the caller decides whether it may have one).
    mutating func notifyOverrides(_ table: TOMLTable, _ path: TOMLPath) -> NotifyOverrides {
        var overrides = NotifyOverrides()
        overrides.confirmReports = integer(table, path, "confirm", range: ConfigSchema.confirm)
        overrides.confirmForMs = policyDuration(
            table, path, "for", minimum: 0, maximum: ConfigSchema.maximumConfirmFor, zeroMeans: nil)
        if let interval = policyDuration(
            table, path, "repeat_interval", minimum: ConfigSchema.minimumRepeatInterval,
            maximum: ConfigSchema.maximumDuration, zeroMeans: "no reminders")
        {
            overrides.repeatIntervalMs = .some(interval == 0 ? nil : interval)
        }
        overrides.ignoreAttributes = attributeNames(table, path)
        return overrides
    }

    /// `group_wait`: "0" (one message per change) or 1 s to 10 min.
    mutating func groupWait(_ table: TOMLTable, _ path: TOMLPath) -> Int64? {
        policyDuration(
            table, path, "group_wait", minimum: ConfigSchema.minimumGroupWait, maximum: ConfigSchema.maximumGroupWait,
            zeroMeans: "one message per change")
    }

    /// A duration from `minimum` to `maximum`, or 0 when written "0" (or "0s") and `zeroMeans` says what that
    /// turns off (nil: 0 is simply the shortest duration, `minimum` must then be 0).
    private mutating func policyDuration(
        _ table: TOMLTable, _ path: TOMLPath, _ key: String, minimum: Int64, maximum: Int64, zeroMeans: String?
    ) -> Int64? {
        guard let value = table[key]?.tomlValue else { return nil }
        let keyPath = path.appending(key)
        guard value.type == .string, let text = value.string else {
            sink.error(keyPath, "expected a duration string such as \"30s\", got \(Self.typeName(value.type))")
            return nil
        }
        if text == "0" { return 0 }
        let milliseconds: Int64
        do {
            milliseconds = try DurationText.milliseconds(text)
        } catch {
            sink.error(keyPath, Self.durationMessage(error, text))
            return nil
        }
        if milliseconds == 0 { return 0 }
        if milliseconds < minimum {
            let zero = zeroMeans.map { "\"0\" (\($0)) or " } ?? ""
            sink.error(keyPath, "must be \(zero)at least \(DurationText.format(milliseconds: minimum)), got \(TOMLPathFormat.quoted(text))")
            return nil
        }
        if milliseconds > maximum {
            sink.error(keyPath, "must be at most \(DurationText.format(milliseconds: maximum)), got \(TOMLPathFormat.quoted(text))")
            return nil
        }
        return milliseconds
    }

    /// `ignore_attributes`: attribute names (non-empty, no control characters, each once).
    private mutating func attributeNames(_ table: TOMLTable, _ path: TOMLPath) -> Set<String>? {
        guard let value = table["ignore_attributes"]?.tomlValue else { return nil }
        let keyPath = path.appending("ignore_attributes")
        guard value.type == .array, let array = value.array else {
            sink.error(keyPath, "expected an array of attribute names, got \(Self.typeName(value.type))")
            return nil
        }
        var names = Set<String>()
        var valid = true
        for index in 0..<array.count {
            let elementPath = keyPath.appending(index: index)
            let element = array[index].tomlValue
            guard element.type == .string, let name = element.string else {
                sink.error(elementPath, "expected an attribute name (a string), got \(Self.typeName(element.type))")
                valid = false
                continue
            }
            guard checkLength(name, ConfigSchema.attributeNameLength, elementPath), checkNoControl(name, elementPath) else {
                valid = false
                continue
            }
            if !names.insert(name).inserted {
                sink.error(elementPath, "attribute \(TOMLPathFormat.quoted(name)) is listed twice")
                valid = false
            }
        }
        return valid ? names : nil
    }
}
