/// Typed, path-aware access to a parsed JSON object, producing one-line `SimulatorConfigError`s
/// such as `machines[1].flip_every_seconds: expected a number`.
struct JSONObjectReader {
    let members: [String: ParsedJSON]
    let context: String

    init(_ value: ParsedJSON, context: String) throws(SimulatorConfigError) {
        guard case .object(let members) = value else {
            throw SimulatorConfigError("\(context.isEmpty ? "body" : context): expected a JSON object, got \(value.typeName)")
        }
        self.members = members
        self.context = context
    }

    func path(_ key: String) -> String {
        context.isEmpty ? key : "\(context).\(key)"
    }

    func rejectUnknown(allowed: Set<String>) throws(SimulatorConfigError) {
        for key in members.keys.sorted() where !allowed.contains(key) {
            throw SimulatorConfigError("\(path(key)): unknown field")
        }
    }

    func string(_ key: String) throws(SimulatorConfigError) -> String? {
        guard let value = members[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw typeError(key, "a string", value) }
        return text
    }

    func int(_ key: String) throws(SimulatorConfigError) -> Int64? {
        guard let value = members[key], value != .null else { return nil }
        guard case .number(_, let integer?) = value else { throw typeError(key, "an integer", value) }
        return integer
    }

    func double(_ key: String) throws(SimulatorConfigError) -> Double? {
        guard let value = members[key], value != .null else { return nil }
        guard case .number(let number, _) = value else { throw typeError(key, "a number", value) }
        return number
    }

    func bool(_ key: String) throws(SimulatorConfigError) -> Bool? {
        guard let value = members[key], value != .null else { return nil }
        guard case .bool(let flag) = value else { throw typeError(key, "a boolean", value) }
        return flag
    }

    func array(_ key: String) throws(SimulatorConfigError) -> [ParsedJSON]? {
        guard let value = members[key], value != .null else { return nil }
        guard case .array(let items) = value else { throw typeError(key, "an array", value) }
        return items
    }

    func object(_ key: String) throws(SimulatorConfigError) -> JSONObjectReader? {
        guard let value = members[key], value != .null else { return nil }
        return try JSONObjectReader(value, context: path(key))
    }

    /// A probability in [0, 1].
    func rate(_ key: String) throws(SimulatorConfigError) -> Double? {
        guard let value = try double(key) else { return nil }
        guard value >= 0, value <= 1 else { throw SimulatorConfigError("\(path(key)): must be between 0 and 1") }
        return value
    }

    /// A non-negative integer.
    func count(_ key: String) throws(SimulatorConfigError) -> Int64? {
        guard let value = try int(key) else { return nil }
        guard value >= 0 else { throw SimulatorConfigError("\(path(key)): must not be negative") }
        return value
    }

    private func typeError(_ key: String, _ expected: String, _ value: ParsedJSON) -> SimulatorConfigError {
        SimulatorConfigError("\(path(key)): expected \(expected), got \(value.typeName)")
    }
}
