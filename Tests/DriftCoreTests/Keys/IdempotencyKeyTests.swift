import DriftCore
import Foundation
import Testing

/// The four properties of the `idempotency-key` of a create (issue 3), each proven here.
@Suite("Idempotency keys")
struct IdempotencyKeyTests {
    static let trigger = "scheduled"

    static func key(_ event: CheckEvent, trigger: String = trigger) -> String {
        IdempotencyKey(machineID: event.machineID, occurrence: event.occurrence, trigger: trigger).value
    }

    // MARK: 1. Same machine + same occurrence -> same key

    @Test("retries of one occurrence reuse its key")
    func retriesReuseTheKey() {
        var harness = SchedulerHarness()
        harness.setMachines([MachinePlan(id: "mch_retry", intervalMs: 15 * minute)])
        var failures = 0
        harness.run(until: t0 + 10 * minute) { event in
            failures += 1
            return failures <= 5 ? .retry(retryAfterMs: nil) : freshReport(now: event.firedAt, ttl: hour)
        }
        let checks = harness.checks
        #expect(checks.count == 6)
        #expect(checks.map(\.attempt) == [1, 2, 3, 4, 5, 6])
        #expect(Set(checks.map { Self.key($0) }).count == 1)
    }

    @Test("a restart restored from the same MachinePlan, and a second replica, use the same key for the same slot")
    func restartAndReplicaReuseTheKey() {
        let interval = 15 * minute
        let id = "mch_restart"
        let phase = SlotMath.phase(machineID: id, intervalMs: interval)
        let currentSlot = SlotMath.slotStart(containing: t0, intervalMs: interval, phaseMs: phase)
        // Last completed slot: the previous one; the current one failed once and the process died.
        let plan = MachinePlan(id: id, intervalMs: interval, lastSlotMs: currentSlot - interval)

        var before = SchedulerHarness(now: t0)
        before.setMachines([plan])
        before.run(until: t0 + minute) { _ in .retry(retryAfterMs: nil) }
        let original = try! #require(before.checks.first)

        // Restart: a new core restored from the same plan, a few seconds later, inside the same slot.
        var restarted = SchedulerHarness(seed: 42, now: t0 + 5 * second)
        restarted.setMachines([plan])
        restarted.run(until: t0 + 2 * minute)
        // Replica: another daemon with the same config, started at a different instant of the slot.
        var replica = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 2), seed: 7, now: t0 + 30 * second)
        replica.setMachines([plan])
        replica.run(until: t0 + 2 * minute)

        let afterRestart = try! #require(restarted.checks.first)
        let onReplica = try! #require(replica.checks.first)
        #expect(original.occurrence == Occurrence(kind: .scheduled, at: currentSlot))
        #expect(afterRestart.occurrence == original.occurrence)
        #expect(onReplica.occurrence == original.occurrence)
        #expect(Self.key(afterRestart) == Self.key(original))
        #expect(Self.key(onReplica) == Self.key(original))
    }

    @Test("the key is a pure function of (machine, occurrence, trigger): pinned value")
    func keyIsPinned() {
        let key = IdempotencyKey(machineID: "mch_1", occurrence: Occurrence(kind: .scheduled, at: t0), trigger: "scheduled")
        #expect(key.value == "v1.s.1767225600000.3cafd9f408442f099cc96fa962e38a0dc14b52f0")
        #expect(key.description == key.value)
        #expect(IdempotencyKey(machineID: "mch_1", occurrence: Occurrence(kind: .scheduled, at: t0), trigger: "scheduled") == key)
    }

    // MARK: 2. Different occurrences -> different keys

    @Test("slots, expiry refreshes inside one interval and manual checks all get different keys")
    func differentOccurrencesDifferentKeys() {
        let interval = 15 * minute
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 10, refreshBeforeMs: minute))
        harness.setMachines([MachinePlan(id: "mch_a", intervalMs: interval), MachinePlan(id: "mch_b", intervalMs: interval)])
        // Reports live 5 minutes, so each interval also has refreshes.
        harness.run(until: t0 + 4 * interval) { freshReport(now: $0.firedAt, ttl: 5 * minute) }
        let checks = harness.checks
        let kinds = Set(checks.map(\.occurrence.kind))
        #expect(kinds == [.scheduled, .refresh])
        // At least one refresh falls strictly inside an interval of the same machine.
        let a = harness.checks(of: "mch_a")
        #expect(a.contains { $0.occurrence.kind == .refresh })
        #expect(a.filter { $0.occurrence.kind == .scheduled }.count >= 4)

        var keys = Set(checks.map { Self.key($0) })
        #expect(keys.count == checks.count)
        // A manual check at the very instant of a scheduled slot (or refresh) still differs.
        for check in checks {
            let manual = IdempotencyKey(machineID: check.machineID, occurrence: Occurrence(kind: .manual, at: check.occurrence.at), trigger: "manual")
            #expect(keys.insert(manual.value).inserted)
        }
        // Same instant, different kind, same trigger: still different.
        let at = checks[0].occurrence.at
        let allKinds = [OccurrenceKind.scheduled, .refresh, .manual].map {
            IdempotencyKey(machineID: "mch_a", occurrence: Occurrence(kind: $0, at: at), trigger: Self.trigger).value
        }
        #expect(Set(allKinds).count == 3)
        // Adjacent instants and other machines differ too.
        #expect(IdempotencyKey(machineID: "mch_a", occurrence: Occurrence(kind: .scheduled, at: at + 1), trigger: Self.trigger).value != allKinds[0])
        #expect(IdempotencyKey(machineID: "mch_b", occurrence: Occurrence(kind: .scheduled, at: at), trigger: Self.trigger).value != allKinds[0])
    }

    // MARK: 3. At most 59 characters from [a-z0-9.] (README, "Idempotency keys", property 3)

    /// Exactly the README's alphabet: lower-case letters, digits and the dot. Nothing else.
    static let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.".unicodeScalars)

    /// The README's promise, checked independently of the implementation's constants.
    static func isValidKey(_ key: String) -> Bool {
        (1...59).contains(key.unicodeScalars.count) && key.utf8.count == key.unicodeScalars.count
            && key.unicodeScalars.allSatisfy { allowed.contains($0) }
    }

    /// The instants the daemon can produce: 1970-01-01T00:00:00.000Z to 2286-11-20T17:46:39.999Z (13 digits of ms).
    static let earliest: Int64 = 0
    static let latest: Int64 = 9_999_999_999_999

    /// Characters drawn for random ids: ASCII, separators, percent signs, spaces, accents, combining marks,
    /// CJK, emoji (4-byte UTF-8, ZWJ sequences), RTL, control characters.
    static let alphabet: [Character] = Array(
        "abcXYZ0189-_.~:/?#[]@!$&'()*+,;=% \t\"\\<>{}|^`éüñßçøÅ\u{301}\u{200D}\u{202E}\u{7F}\u{1}日本語中文한국어עברית🚀👩‍💻🏳️‍🌈")

    @Test("the oracle itself: 59 characters from [a-z0-9.] pass; 60 characters, upper case, '-', '_' and ':' fail")
    func oracleRejectsWhatTheREADMEExcludes() {
        let longest = "v1.s.9999999999999." + String(repeating: "a", count: 40)
        #expect(longest.count == 59 && Self.isValidKey(longest))
        #expect(!Self.isValidKey(longest + "0"))
        #expect(!Self.isValidKey(""))
        for bad in ["v1.s.-1.abc", "V1.s.1.abc", "v1_s.1.abc", "v1:s.1.abc", "v1.s.1.ab c", "v1.s.1.é"] {
            #expect(!Self.isValidKey(bad), "\(bad)")
        }
    }

    @Test("keys are at most 59 characters from [a-z0-9.] for any id up to 54 characters and any instant from 1970 to 2286 (5,000 random draws)")
    func keyShapeProperty() {
        var rng = SplitMix64(seed: 0x1d_e4_70_e7)
        var seen = Set<String>()
        for _ in 0..<5_000 {
            let length = Int.random(in: 1...54, using: &rng)
            let id = String((0..<length).map { _ in Self.alphabet.randomElement(using: &rng)! })
            let kind = [OccurrenceKind.scheduled, .refresh, .manual].randomElement(using: &rng)!
            // Uniform over the whole range, plus draws with few digits (early instants) now and then.
            let at = Bool.random(using: &rng)
                ? Int64.random(in: Self.earliest...Self.latest, using: &rng)
                : Int64.random(in: 0...(Int64(1) << Int64.random(in: 0...43, using: &rng)), using: &rng)
            let trigger = ["scheduled", "manual", "", "a very long trigger with spaces and ünïcode"].randomElement(using: &rng)!
            let occurrence = Occurrence(kind: kind, at: at)
            let key = IdempotencyKey(machineID: id, occurrence: occurrence, trigger: trigger).value
            #expect(Self.isValidKey(key), "id \(id.debugDescription) at \(at) gave \(key)")
            // Within the range the validating initializer agrees and the key names the instant itself.
            #expect(IdempotencyKey(validating: id, occurrence: occurrence, trigger: trigger)?.value == key)
            #expect(key.split(separator: ".")[2] == Substring(String(at)))
            seen.insert(key)
        }
        #expect(seen.count >= 4_990)
    }

    @Test("the range's edges: 1970-01-01T00:00:00.000Z and 2286-11-20T17:46:39.999Z give keys; the longest is exactly 59 characters")
    func rangeEdges() {
        let first = IdempotencyKey(validating: "mch_1", occurrence: Occurrence(kind: .scheduled, at: Self.earliest), trigger: "t")
        let last = IdempotencyKey(validating: "mch_1", occurrence: Occurrence(kind: .refresh, at: Self.latest), trigger: "t")
        #expect(first?.value.hasPrefix("v1.s.0.") == true)
        #expect(last?.value.count == 59)
        #expect(last?.value.hasPrefix("v1.r.9999999999999.") == true)
        #expect(IdempotencyKey.validTimes == Self.earliest...Self.latest)
        #expect(IdempotencyKey.maximumLength == 59)
        // 2286-11-20T17:46:39.999Z, checked with the calendar rather than the constant.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: Double(Self.latest) / 1000)
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        #expect([parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second] == [2286, 11, 20, 17, 46, 39])
    }

    @Test("instants the daemon cannot produce are rejected by validation and clamped (never a malformed key) by the plain initializer",
          arguments: [Int64.min, -9_999_999_999_999, -1, 10_000_000_000_000, 253_402_300_799_999, Int64.max])
    func outOfRangeInstants(at: Int64) {
        for kind in [OccurrenceKind.scheduled, .refresh, .manual] {
            let occurrence = Occurrence(kind: kind, at: at)
            #expect(IdempotencyKey(validating: "mch_1", occurrence: occurrence, trigger: "scheduled") == nil)
            let clamped = IdempotencyKey(machineID: "mch_1", occurrence: occurrence, trigger: "scheduled").value
            #expect(Self.isValidKey(clamped), "\(clamped)")
            let edge = at < 0 ? Self.earliest : Self.latest
            #expect(clamped == IdempotencyKey(machineID: "mch_1", occurrence: Occurrence(kind: kind, at: edge), trigger: "scheduled").value)
        }
    }

    @Test("edge ids: 1 character, 54 characters, 54 four-byte emoji, odd characters", arguments: [
        "a", String(repeating: "z", count: 54), String(repeating: "🚀", count: 54), String(repeating: "é", count: 54),
        "mch with spaces/and/slashes?x=1&y=%20", "../../etc/passwd", "control characters",
    ])
    func edgeIDs(id: String) {
        let id = id == "control characters" ? "line\nbreak\r\u{0}\u{7}\u{1B}[31m" : id
        for kind in [OccurrenceKind.scheduled, .refresh, .manual] {
            for at: Int64 in [0, 1, t0, Self.latest - 1, Self.latest] {
                let key = IdempotencyKey(validating: id, occurrence: Occurrence(kind: kind, at: at), trigger: "scheduled")?.value ?? "(rejected)"
                #expect(Self.isValidKey(key), "\(key)")
            }
        }
    }

    // MARK: 4. The body (trigger) is an input of the key

    @Test("the trigger (the whole request body) is an input of the key: same key implies same trigger")
    func triggerIsAnInput() {
        let triggers = ["scheduled", "manual", "refresh", "", "Scheduled", "scheduled ", "scheduled\u{0}"]
        let machines = ["mch_1", "mch_2", "🚀"]
        let occurrences = [Occurrence(kind: .scheduled, at: t0), Occurrence(kind: .refresh, at: t0), Occurrence(kind: .scheduled, at: t0 + 1)]
        var inputsByKey: [String: (String, Occurrence, String)] = [:]
        for machine in machines {
            for occurrence in occurrences {
                for trigger in triggers {
                    let key = IdempotencyKey(machineID: machine, occurrence: occurrence, trigger: trigger).value
                    if let earlier = inputsByKey[key] {
                        Issue.record("key \(key) for both \(earlier) and \((machine, occurrence, trigger))")
                    }
                    inputsByKey[key] = (machine, occurrence, trigger)
                }
            }
        }
        #expect(inputsByKey.count == triggers.count * machines.count * occurrences.count)
    }
}
