import DriftCore
import TOMLKit

/// Walks a parsed TOML document against `ConfigSchema`, applying defaults and reporting every problem
/// with its line. Secrets are not read here (see `SecretResolver`).
struct ConfigValidator {
    /// Where a secret is configured: the `*_file` value if valid, and the path for diagnostics.
    struct SecretReference {
        var file: String?
        var path: TOMLPath
        /// The `*_file` key is present but invalid (already reported): do not look elsewhere.
        var invalid = false
        /// Not needed by this entry (a webhook format without signatures): read only if a file is named.
        var optional = false
    }

    var sink: DiagnosticSink
    let environment: [String: String]
    private(set) var tokenReference = SecretReference(file: nil, path: [.key("api"), .key("token_file")])
    var webhookSecretReferences: [SecretReference] = []
    /// `url_file` entries by webhook index: the URL is read like a secret.
    var urlReferences: [(index: Int, reference: SecretReference)] = []
    /// One per webhook: the secret files after the first (a rotation), in order.
    var additionalSecretReferences: [[SecretReference]] = []
    /// One per webhook: its PagerDuty routing key, or nil for other formats.
    var routingKeyReferences: [SecretReference?] = []
    /// Template files to read, by webhook index, with the key's path for diagnostics.
    var templateReferences: [(index: Int, file: String, path: TOMLPath)] = []

    init(sink: DiagnosticSink, environment: [String: String]) {
        self.sink = sink
        self.environment = environment
    }

    // MARK: Document

    /// `machines`: the `[[machine]]` blocks already read by `PlainMachineBlocks` (nil: they are in `root`).
    mutating func validate(_ root: TOMLTable, machines plain: [PlainMachineBlocks.Fields]? = nil) -> DaemonConfig {
        checkKeys(root, path: [], known: ConfigSchema.topLevel)
        var config = DaemonConfig()
        if let api = section(root, "api") { config.api = validateAPI(api) }
        if let schedule = section(root, "schedule") { config.schedule = validateSchedule(schedule) }
        config.state = StateSettings(path: defaultStatePath())
        if let state = section(root, "state") { config.state = validateState(state, default: config.state) }
        if let log = section(root, "log") { config.log = validateLog(log) }
        if let metrics = section(root, "metrics") { config.metrics = validateMetrics(metrics) }
        if let notify = section(root, "notify") { config.notify = validateNotify(notify) }
        config.webhooks = validateWebhooks(arrayOfTables(root, "webhook"))
        // Where each id was first defined (its block's index); its line is looked up only for a duplicate
        // (lines cost a scan).
        var firstIndex: [String: Int] = [:]
        let machineTables = plain == nil ? arrayOfTables(root, "machine") : []
        let count = plain?.count ?? machineTables.count
        firstIndex.reserveCapacity(count)
        config.machines.reserveCapacity(count)
        // Paths are built only for diagnostics (a million machines would allocate a million of them).
        func path(_ index: Int) -> TOMLPath { plain == nil ? machineTables[index].0 : [.key("machine"), .index(index)] }
        for index in 0..<count {
            let validated = plain.map { validateMachine($0[index], index: index) } ?? validateMachine(machineTables[index].1, path: path(index))
            guard let machine = validated else { continue }
            if let first = firstIndex[machine.id] {
                let firstPath = path(first)
                let firstLine = sink.line(of: firstPath.appending("id"))
                let place = firstLine > 0 ? "line \(firstLine)" : firstPath.dotted
                sink.error(path(index).appending("id"), "duplicate machine id \(TOMLPathFormat.quoted(machine.id)) (first defined at \(place))")
            } else {
                firstIndex[machine.id] = index
                config.machines.append(machine)
            }
        }
        config.maintenance = validateMaintenance(arrayOfTables(root, "maintenance"))
        if config.machines.isEmpty, !sink.hasErrors {
            sink.add(
                key: "machine", line: 0, message: "no [[machine]] entries: there is nothing to watch",
                severity: .warning)
        }
        return config
    }

    private func defaultStatePath() -> String {
        if let directories = environment["STATE_DIRECTORY"],
            let first = directories.split(separator: ":", omittingEmptySubsequences: true).first
        {
            return first.hasSuffix("/") ? "\(first)state.sqlite" : "\(first)/state.sqlite"
        }
        return StateSettings.fallbackPath
    }

    // MARK: Tables

    private mutating func validateAPI(_ table: TOMLTable) -> APISettings {
        let path: TOMLPath = [.key("api")]
        checkKeys(table, path: path, known: ConfigSchema.api)
        var api = APISettings()
        api.allowInsecureHTTP = bool(table, path, "allow_insecure_http") ?? false
        if let text = string(table, path, "base_url"),
            let url = httpURL(text, path: path.appending("base_url"), allowInsecure: api.allowInsecureHTTP, purpose: "the API token")
        {
            api.baseURL = url.text(trimmingTrailingSlash: true)
        }
        if let file = filePath(table, path, "token_file") {
            api.tokenFile = file
            tokenReference.file = file
        } else if table["token_file"] != nil {
            tokenReference.invalid = true
        }
        if let context = string(table, path, "context") {
            let contextPath = path.appending("context")
            if checkLength(context, ConfigSchema.contextLength, contextPath),
                checkVisibleASCII(context, contextPath, what: "it is sent as an HTTP header")
            {
                api.context = context
            }
        }
        if let timeout = duration(table, path, "timeout", minimum: 1) { api.timeoutMilliseconds = timeout }
        if let limit = integer(table, path, "max_in_flight", range: ConfigSchema.maxInFlight) { api.maxInFlight = limit }
        return api
    }

    private mutating func validateSchedule(_ table: TOMLTable) -> ScheduleSettings {
        let path: TOMLPath = [.key("schedule")]
        checkKeys(table, path: path, known: ConfigSchema.schedule)
        var schedule = ScheduleSettings()
        if let interval = duration(table, path, "interval", minimum: ConfigSchema.minimumInterval) {
            schedule.intervalMilliseconds = interval
        }
        if let refresh = duration(table, path, "refresh_before_expiry", minimum: 0) {
            schedule.refreshBeforeExpiryMilliseconds = refresh
        }
        if let window = duration(table, path, "catch_up_window", minimum: 0) {
            schedule.catchUpWindowMilliseconds = window
        }
        if let failingAfter = integer(table, path, "failing_after", range: ConfigSchema.failingAfter) {
            schedule.failingAfter = failingAfter
        }
        if let trigger = string(table, path, "trigger") {
            let triggerPath = path.appending("trigger")
            if checkLength(trigger, ConfigSchema.triggerLength, triggerPath), checkNoControl(trigger, triggerPath) {
                schedule.trigger = trigger
            }
        }
        return schedule
    }

    private mutating func validateState(_ table: TOMLTable, default fallback: StateSettings) -> StateSettings {
        let path: TOMLPath = [.key("state")]
        checkKeys(table, path: path, known: ConfigSchema.state)
        var state = fallback
        if let file = filePath(table, path, "path") {
            if file.hasSuffix("/") {
                sink.error(path.appending("path"), "must name a file, not a directory")
            } else {
                state.path = file
            }
        }
        if let retention = duration(table, path, "retention", minimum: StateSettings.minimumRetentionMilliseconds) {
            state.retentionMilliseconds = retention
        }
        return state
    }

    /// The machine, or nil if its id is missing or invalid (other errors are reported, not fatal here).
    mutating func validateMachine(_ table: TOMLTable, path: TOMLPath) -> MachineSettings? {
        var machine = MachineSettings(id: "")
        // Most blocks hold only id, name and interval: only other blocks pay for the notification keys.
        if table.count != ConfigSchema.machineBase.reduce(0, { $0 + (table.contains(key: $1) ? 1 : 0) }) {
            machine.notify = machineNotify(table, path)
        }
        if let name = string(table, path, "name") { machine.name = checkedName(name, path) }
        machine.intervalMilliseconds = duration(table, path, "interval", minimum: ConfigSchema.minimumInterval)
        guard let id = string(table, path, "id", required: true) else { return nil }
        return checkedMachine(machine, id: id, path: path)
    }

    /// `validateMachine(_:path:)` for block `index` of `PlainMachineBlocks`, short-cut for the usual
    /// block: a printable ASCII id and name of valid lengths and no interval pass every check at once.
    mutating func validateMachine(_ fields: PlainMachineBlocks.Fields, index: Int) -> MachineSettings? {
        if fields.interval == nil, let id = fields.id, Self.isPrintableASCII(id, ConfigSchema.machineIDLength, space: false),
           fields.name.map({ Self.isPrintableASCII($0, ConfigSchema.nameLength, space: true) }) ?? true {
            return MachineSettings(id: id, name: fields.name)
        }
        return validateMachine(fields, path: [.key("machine"), .index(index)])
    }

    /// Printable ASCII only (the space only if `space`), with a length in `range`.
    static func isPrintableASCII(_ text: String, _ range: ClosedRange<Int>, space: Bool) -> Bool {
        var count = 0
        for byte in text.utf8 {
            guard byte < 0x7F, byte > 0x20 || (space && byte == 0x20) else { return false }
            count += 1
        }
        return range.contains(count)
    }

    /// The same checks, in the same order, on a block read by `PlainMachineBlocks` (only known keys,
    /// only strings).
    mutating func validateMachine(_ fields: PlainMachineBlocks.Fields, path: TOMLPath) -> MachineSettings? {
        var machine = MachineSettings(id: "")
        if let name = fields.name { machine.name = checkedName(name, path) }
        if let interval = fields.interval {
            machine.intervalMilliseconds = duration(interval, path.appending("interval"), minimum: ConfigSchema.minimumInterval)
        }
        guard let id = fields.id else {
            sink.error(path.appending("id"), "missing required key \"id\"")
            return nil
        }
        return checkedMachine(machine, id: id, path: path)
    }

    private mutating func checkedName(_ name: String, _ path: TOMLPath) -> String? {
        let namePath = path.appending("name")
        return checkLength(name, ConfigSchema.nameLength, namePath) && checkNoControl(name, namePath) ? name : nil
    }

    private mutating func checkedMachine(_ settings: MachineSettings, id: String, path: TOMLPath) -> MachineSettings? {
        var machine = settings
        let idPath = path.appending("id")
        guard checkLength(id, ConfigSchema.machineIDLength, idPath) else { return nil }
        // ASCII fast path: the only ASCII whitespace that is not a control character is the space.
        if id.unicodeScalars.contains(where: { Self.isControl($0) || ($0.isASCII ? $0.value == 0x20 : $0.properties.isWhitespace) }) {
            sink.error(idPath, "must not contain whitespace or control characters")
            return nil
        }
        machine.id = id
        return machine
    }

    // MARK: Structure helpers

    /// Reports keys of `table` that are not in `known`, suggesting the closest known one.
    mutating func checkKeys(_ table: TOMLTable, path: TOMLPath, known: [String]) {
        // Counting known keys costs nothing; listing keys makes TOMLKit leak a C copy of each (per table,
        // per load: 10 MB per reload of 100,000 machines). So keys are listed only when one is unknown.
        if table.count == known.reduce(0, { $0 + (table.contains(key: $1) ? 1 : 0) }) { return }
        for key in table.keys where !known.contains(key) {
            var message = "unknown key \(TOMLPathFormat.quoted(key))"
            // A key of a section written at the top; a mistyped table (`[machines]`) is matched by name below.
            if path.isEmpty, table[key]?.tomlValue.type != .table, let section = Self.sectionDefining(key) {
                message += "; did you mean to put it under \(ConfigSchema.header(for: section))?"
            } else if let suggestion = KeySuggestion.closest(to: key, in: known) {
                let shown = path.isEmpty ? ConfigSchema.header(for: suggestion) : "\"\(suggestion)\""
                message += "; did you mean \(shown)?"
            } else if path.isEmpty {
                message += " (known tables: \(known.map(ConfigSchema.header(for:)).joined(separator: ", ")))"
            } else {
                message += " (known keys: \(known.joined(separator: ", ")))"
            }
            sink.error(path.appending(key), message)
        }
    }

    /// The section whose schema has `key`, for keys written at the top level by mistake.
    private static func sectionDefining(_ key: String) -> String? {
        let sections = [
            ("schedule", ConfigSchema.schedule), ("api", ConfigSchema.api), ("state", ConfigSchema.state), ("metrics", ConfigSchema.metrics), ("log", ConfigSchema.log),
            ("notify", ConfigSchema.notify), ("machine", ConfigSchema.machine), ("webhook", ConfigSchema.webhook),
            ("maintenance", ConfigSchema.maintenance),
        ]
        return sections.first { $0.1.contains(key) }?.0
    }

    /// A top-level `[name]` table, if present and a table.
    private mutating func section(_ root: TOMLTable, _ key: String) -> TOMLTable? {
        guard let value = root[key]?.tomlValue else { return nil }
        guard value.type == .table, let table = value.table else {
            sink.error([.key(key)], "expected a table ([\(key)]), got \(Self.typeName(value.type))")
            return nil
        }
        return table
    }

    /// The entries of a top-level `[[name]]` array of tables, with their paths.
    mutating func arrayOfTables(_ root: TOMLTable, _ key: String) -> [(TOMLPath, TOMLTable)] {
        guard let value = root[key]?.tomlValue else { return [] }
        let path: TOMLPath = [.key(key)]
        guard value.type == .array, let array = value.array else {
            sink.error(path, "expected an array of tables ([[\(key)]] for each entry), got \(Self.typeName(value.type))")
            return []
        }
        var tables: [(TOMLPath, TOMLTable)] = []
        for index in 0..<array.count {
            let element = array[index].tomlValue
            guard element.type == .table, let table = element.table else {
                sink.error(path.appending(index: index), "expected a table, got \(Self.typeName(element.type))")
                continue
            }
            tables.append((path.appending(index: index), table))
        }
        return tables
    }

    // MARK: Value helpers

    mutating func string(_ table: TOMLTable, _ path: TOMLPath, _ key: String, required: Bool = false) -> String? {
        guard let value = table[key]?.tomlValue else {
            if required { sink.error(path.appending(key), "missing required key \"\(key)\"") }
            return nil
        }
        guard value.type == .string, let text = value.string else {
            sink.error(path.appending(key), "expected a string, got \(Self.typeName(value.type))")
            return nil
        }
        return text
    }

    mutating func bool(_ table: TOMLTable, _ path: TOMLPath, _ key: String) -> Bool? {
        guard let value = table[key]?.tomlValue else { return nil }
        guard value.type == .bool, let flag = value.bool else {
            sink.error(path.appending(key), "expected a boolean (true or false), got \(Self.typeName(value.type))")
            return nil
        }
        return flag
    }

    mutating func integer(_ table: TOMLTable, _ path: TOMLPath, _ key: String, range: ClosedRange<Int>) -> Int? {
        guard let value = table[key]?.tomlValue else { return nil }
        guard value.type == .int, let number = value.int else {
            sink.error(path.appending(key), "expected an integer, got \(Self.typeName(value.type))")
            return nil
        }
        guard range.contains(number) else {
            sink.error(path.appending(key), "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
            return nil
        }
        return number
    }

    /// A duration string in milliseconds, at least `minimum` and at most `ConfigSchema.maximumDuration`.
    mutating func duration(_ table: TOMLTable, _ path: TOMLPath, _ key: String, minimum: Int64) -> Int64? {
        guard let value = table[key]?.tomlValue else { return nil }
        let keyPath = path.appending(key)
        guard value.type == .string, let text = value.string else {
            sink.error(keyPath, "expected a duration string such as \"30s\", got \(Self.typeName(value.type))")
            return nil
        }
        return duration(text, keyPath, minimum: minimum)
    }

    /// The duration `text` of the key at `keyPath`, checked as above.
    mutating func duration(_ text: String, _ keyPath: TOMLPath, minimum: Int64) -> Int64? {
        let milliseconds: Int64
        do {
            milliseconds = try DurationText.milliseconds(text)
        } catch {
            sink.error(keyPath, Self.durationMessage(error, text))
            return nil
        }
        if milliseconds < minimum {
            let message =
                minimum == 1
                ? "must be greater than 0"
                : "must be at least \(DurationText.format(milliseconds: minimum)), got \(TOMLPathFormat.quoted(text))"
            sink.error(keyPath, message)
            return nil
        }
        if milliseconds > ConfigSchema.maximumDuration {
            let limit = DurationText.format(milliseconds: ConfigSchema.maximumDuration)
            sink.error(keyPath, "must be at most \(limit), got \(TOMLPathFormat.quoted(text))")
            return nil
        }
        return milliseconds
    }

    /// `DurationText`'s message, with the user's text quoted safely (it may hold control characters).
    static func durationMessage(_ error: DurationText.ParseError, _ text: String) -> String {
        switch error {
        case .empty: "empty duration (use e.g. \"500ms\", \"30s\", \"15m\", \"1h30m\", \"1d\")"
        case .invalid:
            "invalid duration \(TOMLPathFormat.quoted(text)) (use e.g. \"500ms\", \"30s\", \"15m\", \"1h30m\", \"1d\")"
        case .overflow: "duration \(TOMLPathFormat.quoted(text)) is too long"
        }
    }

    /// A file path: non-empty, no control characters. Used as written (relative to the working directory).
    mutating func filePath(_ table: TOMLTable, _ path: TOMLPath, _ key: String) -> String? {
        guard let text = string(table, path, key) else { return nil }
        let keyPath = path.appending(key)
        if text.isEmpty {
            sink.error(keyPath, "must not be empty")
            return nil
        }
        return checkNoControl(text, keyPath) ? text : nil
    }

    /// Parses an http(s) URL and applies the loopback rule for plain http.
    mutating func httpURL(_ text: String, path: TOMLPath, allowInsecure: Bool, purpose: String, allowQuery: Bool = false) -> HTTPURL? {
        let url: HTTPURL
        switch HTTPURL.parse(text, allowQuery: allowQuery) {
        case .success(let parsed): url = parsed
        case .failure(let problem):
            sink.error(path, problem.message)
            return nil
        }
        if !url.isHTTPS, !url.isLoopback {
            guard allowInsecure else {
                sink.error(
                    path,
                    "plain http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost); "
                        + "use https or set allow_insecure_http = true")
                return nil
            }
            sink.warning(
                path, "plain http to non-loopback host \(TOMLPathFormat.quoted(url.host)): \(purpose) travel unencrypted")
        }
        return url
    }

    mutating func checkLength(_ text: String, _ range: ClosedRange<Int>, _ path: TOMLPath) -> Bool {
        let length = text.unicodeScalars.count
        if length < range.lowerBound {
            sink.error(path, "must not be empty")
            return false
        }
        if length > range.upperBound {
            sink.error(path, "is too long (\(length) characters; at most \(range.upperBound))")
            return false
        }
        return true
    }

    mutating func checkNoControl(_ text: String, _ path: TOMLPath) -> Bool {
        guard text.unicodeScalars.contains(where: Self.isControl) else { return true }
        sink.error(path, "must not contain control characters")
        return false
    }

    private mutating func checkVisibleASCII(_ text: String, _ path: TOMLPath, what reason: String) -> Bool {
        guard text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else { return true }
        sink.error(path, "must be visible ASCII without spaces (\(reason))")
        return false
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
            || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// TOML type names as diagnostics print them ("expected a string, got integer").
    static func typeName(_ type: TOMLType) -> String {
        switch type {
        case .string: "string"
        case .int: "integer"
        case .double: "float"
        case .bool: "boolean"
        case .date: "date"
        case .time: "time"
        case .dateTime: "date-time"
        case .table: "table"
        case .array: "array"
        }
    }
}
