/// Fault injection knobs, applied to `/v1` requests only (optionally only those for `machineIDs`).
///
/// Each request draws one uniform number and picks at most one outcome by stacking the rates in
/// the order drop, hang, rate_limit, error, malformed, missing_state, unknown_state, oversized,
/// so every rate is exactly that outcome's probability. `rate_limit` and `error` answer before the
/// request is processed (nothing is created); `drop` and `hang` happen after processing (a POST
/// creates its report, the answer is lost: the retry-with-same-key case); the four body faults
/// only corrupt successful drift report answers (POST 201, GET report 200).
/// `failNext` makes the next N drift report POSTs (to `machineIDs` when set) fail with
/// `errorStatuses[0]` before processing. `latencyMs` applies to every matching request.
/// With `stickyBadBody` a body fault drawn by the create belongs to the report: every replay of its key and
/// every GET of it repeats the same bad body, and later draws do not touch it. `oddFieldsRate` is drawn on
/// its own: such a report omits or nulls its optional fields (`delta`, `provider_snapshot`, `Location`) and
/// carries unknown fields, and stays that way on replays. All allowed by the contract except `null`, which
/// its schema (`object`) does not allow but a tolerant client should accept.
public struct SimulatorFaults: Sendable, Hashable {
    /// Delay added to every matching request, in milliseconds.
    public var latencyMs: Int
    /// Probability of an error answer, status picked uniformly from `errorStatuses`.
    public var errorRate: Double
    public var errorStatuses: [Int]
    /// Probability of a 429 with a `Retry-After` header.
    public var rateLimitRate: Double
    public var retryAfterSeconds: Int
    /// Send `Retry-After` as an HTTP date (now + `retryAfterSeconds`) instead of delta seconds.
    public var retryAfterHTTPDate: Bool
    /// Probability of closing the TCP connection without any answer.
    public var dropRate: Double
    /// Probability of a 201/200 whose body is truncated, invalid JSON.
    public var malformedRate: Double
    /// Probability of a report answer without `state`.
    public var missingStateRate: Double
    /// Probability of a report answer with `state: "exploded"`.
    public var unknownStateRate: Double
    /// Probability of a report answer bigger than 1 MiB.
    public var oversizedRate: Double
    /// Probability of never answering (until the simulator shuts down).
    public var hangRate: Double
    /// The next N drift report POSTs fail with `errorStatuses[0]` (GETs do not consume it).
    public var failNext: Int
    /// Restrict faults to these machine ids (nil: all requests; machine-less requests are then unaffected).
    public var machineIDs: [String]?
    /// A body fault drawn on a create sticks to the report (replays and GETs repeat it exactly).
    public var stickyBadBody: Bool
    /// Probability that a created report omits or nulls its optional fields and adds unknown ones.
    public var oddFieldsRate: Double

    public init(
        latencyMs: Int = 0,
        errorRate: Double = 0,
        errorStatuses: [Int] = [500, 502, 503],
        rateLimitRate: Double = 0,
        retryAfterSeconds: Int = 1,
        retryAfterHTTPDate: Bool = false,
        dropRate: Double = 0,
        malformedRate: Double = 0,
        missingStateRate: Double = 0,
        unknownStateRate: Double = 0,
        oversizedRate: Double = 0,
        hangRate: Double = 0,
        failNext: Int = 0,
        machineIDs: [String]? = nil,
        stickyBadBody: Bool = false,
        oddFieldsRate: Double = 0
    ) {
        self.latencyMs = latencyMs
        self.errorRate = errorRate
        self.errorStatuses = errorStatuses
        self.rateLimitRate = rateLimitRate
        self.retryAfterSeconds = retryAfterSeconds
        self.retryAfterHTTPDate = retryAfterHTTPDate
        self.dropRate = dropRate
        self.malformedRate = malformedRate
        self.missingStateRate = missingStateRate
        self.unknownStateRate = unknownStateRate
        self.oversizedRate = oversizedRate
        self.hangRate = hangRate
        self.failNext = failNext
        self.machineIDs = machineIDs
        self.stickyBadBody = stickyBadBody
        self.oddFieldsRate = oddFieldsRate
    }

    /// No faults at all.
    public static let none = SimulatorFaults()

    /// True when no knob would ever change a request.
    public var isNone: Bool {
        latencyMs == 0 && failNext == 0 && randomRateTotal == 0 && oddFieldsRate == 0
    }

    var randomRateTotal: Double {
        dropRate + hangRate + rateLimitRate + errorRate + malformedRate + missingStateRate + unknownStateRate + oversizedRate
    }

    /// JSON field names (as accepted by `PUT /_sim/faults` and the scenario file's `faults`).
    static let fieldNames: Set<String> = [
        "latency_ms", "error_rate", "error_statuses", "rate_limit_rate", "retry_after_seconds",
        "retry_after_http_date", "drop_rate", "malformed_rate", "missing_state_rate", "unknown_state_rate",
        "oversized_rate", "hang_rate", "fail_next", "machine_ids", "sticky_bad_body", "odd_fields_rate",
    ]

    /// Parses a faults JSON object; missing fields keep the values of `base`.
    public static func parse(json: String, base: SimulatorFaults = .none) throws(SimulatorConfigError) -> SimulatorFaults {
        let value: ParsedJSON
        do {
            value = try JSONParser.parse(json)
        } catch {
            throw SimulatorConfigError("faults: invalid JSON: \(error)")
        }
        return try parse(value, context: "faults", base: base)
    }

    static func parse(_ value: ParsedJSON, context: String, base: SimulatorFaults) throws(SimulatorConfigError) -> SimulatorFaults {
        let reader = try JSONObjectReader(value, context: context)
        try reader.rejectUnknown(allowed: fieldNames)
        var faults = base
        if let v = try reader.count("latency_ms") { faults.latencyMs = Int(clamping: v) }
        if let v = try reader.rate("error_rate") { faults.errorRate = v }
        if let items = try reader.array("error_statuses") {
            var statuses: [Int] = []
            for item in items {
                guard case .number(_, let code?) = item, (100...599).contains(code) else {
                    throw SimulatorConfigError("\(reader.path("error_statuses")): expected HTTP status codes (100-599)")
                }
                statuses.append(Int(code))
            }
            guard !statuses.isEmpty else { throw SimulatorConfigError("\(reader.path("error_statuses")): must not be empty") }
            faults.errorStatuses = statuses
        }
        if let v = try reader.rate("rate_limit_rate") { faults.rateLimitRate = v }
        if let v = try reader.count("retry_after_seconds") { faults.retryAfterSeconds = Int(clamping: v) }
        if let v = try reader.bool("retry_after_http_date") { faults.retryAfterHTTPDate = v }
        if let v = try reader.rate("drop_rate") { faults.dropRate = v }
        if let v = try reader.rate("malformed_rate") { faults.malformedRate = v }
        if let v = try reader.rate("missing_state_rate") { faults.missingStateRate = v }
        if let v = try reader.rate("unknown_state_rate") { faults.unknownStateRate = v }
        if let v = try reader.rate("oversized_rate") { faults.oversizedRate = v }
        if let v = try reader.rate("hang_rate") { faults.hangRate = v }
        if let v = try reader.count("fail_next") { faults.failNext = Int(clamping: v) }
        if let v = try reader.bool("sticky_bad_body") { faults.stickyBadBody = v }
        if let v = try reader.rate("odd_fields_rate") { faults.oddFieldsRate = v }
        if let items = try reader.array("machine_ids") {
            var ids: [String] = []
            for item in items {
                guard case .string(let id) = item else {
                    throw SimulatorConfigError("\(reader.path("machine_ids")): expected an array of strings")
                }
                ids.append(id)
            }
            faults.machineIDs = ids
        }
        try faults.validate(context: context)
        return faults
    }

    /// Checks ranges (rates in [0, 1], non-empty statuses, ...).
    public func validate(context: String = "faults") throws(SimulatorConfigError) {
        let rates: [(String, Double)] = [
            ("error_rate", errorRate), ("rate_limit_rate", rateLimitRate), ("drop_rate", dropRate),
            ("malformed_rate", malformedRate), ("missing_state_rate", missingStateRate),
            ("unknown_state_rate", unknownStateRate), ("oversized_rate", oversizedRate), ("hang_rate", hangRate),
            ("odd_fields_rate", oddFieldsRate),
        ]
        for (name, rate) in rates where !(rate >= 0 && rate <= 1) {
            throw SimulatorConfigError("\(context).\(name): must be between 0 and 1")
        }
        guard !errorStatuses.isEmpty, errorStatuses.allSatisfy({ (100...599).contains($0) }) else {
            throw SimulatorConfigError("\(context).error_statuses: expected HTTP status codes (100-599)")
        }
        guard latencyMs >= 0 else { throw SimulatorConfigError("\(context).latency_ms: must not be negative") }
        guard retryAfterSeconds >= 0 else { throw SimulatorConfigError("\(context).retry_after_seconds: must not be negative") }
        guard failNext >= 0 else { throw SimulatorConfigError("\(context).fail_next: must not be negative") }
    }

    func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("latency_ms"); writer.int(latencyMs)
        writer.key("error_rate"); writer.double(errorRate)
        writer.key("error_statuses"); writer.beginArray()
        for status in errorStatuses { writer.int(status) }
        writer.endArray()
        writer.key("rate_limit_rate"); writer.double(rateLimitRate)
        writer.key("retry_after_seconds"); writer.int(retryAfterSeconds)
        writer.key("retry_after_http_date"); writer.bool(retryAfterHTTPDate)
        writer.key("drop_rate"); writer.double(dropRate)
        writer.key("malformed_rate"); writer.double(malformedRate)
        writer.key("missing_state_rate"); writer.double(missingStateRate)
        writer.key("unknown_state_rate"); writer.double(unknownStateRate)
        writer.key("oversized_rate"); writer.double(oversizedRate)
        writer.key("hang_rate"); writer.double(hangRate)
        writer.key("fail_next"); writer.int(failNext)
        writer.key("sticky_bad_body"); writer.bool(stickyBadBody)
        writer.key("odd_fields_rate"); writer.double(oddFieldsRate)
        writer.key("machine_ids")
        if let machineIDs {
            writer.beginArray()
            for id in machineIDs { writer.string(id) }
            writer.endArray()
        } else {
            writer.null()
        }
        writer.endObject()
    }
}
