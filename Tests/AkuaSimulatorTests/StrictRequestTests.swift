import AkuaSimulator
import Foundation
import Testing

/// The simulator as strict as the contract: `akua-context`, the request media type, bad bodies that stick
/// to their report, and valid-but-odd reports (optional fields omitted or null, unknown fields added).
@Suite("Simulator strictness")
struct StrictRequestTests {
    @Test("a configured akua-context: missing or wrong is 403 ApiErrorResponse, right passes; 401 comes first")
    func context() async throws {
        try await withSimulator(configure: { $0.requiredContext = "ws_j572abc" }) { (sim: SimulatorHarness) async throws in
            let missing = try await sim.create(key: "k")
            #expect(missing.status == 403)
            #expect(missing.json?["success"] as? Bool == false)
            #expect(missing.errorCode == SimulatorErrorCode.forbidden)
            #expect(missing.errorPath == ["header", "akua-context"])
            let wrong = try await sim.send(.GET, "/v1/machines/mch_a", headers: [("akua-context", "ws_other")])
            #expect(wrong.status == 403)
            let right = try await sim.create(key: "k", headers: [("akua-context", "ws_j572abc")])
            #expect(right.status == 201)
            let badToken = try await sim.send(.GET, "/v1/machines", token: "nope", headers: [("akua-context", "ws_other")])
            #expect(badToken.status == 401)
            #expect(sim.server.control.stats().createsTotal == 1)

            // At runtime: another context, then none required.
            #expect(try await sim.send(.PUT, "/_sim/context", token: nil, body: #"{"context": "ws_new"}"#).status == 204)
            #expect(try await sim.send(.GET, "/v1/machines", headers: [("akua-context", "ws_j572abc")]).status == 403)
            #expect(try await sim.send(.GET, "/v1/machines", headers: [("akua-context", "ws_new")]).status == 200)
            try sim.server.control.setRequiredContext(nil)
            #expect(try await sim.send(.GET, "/v1/machines").status == 200)
            #expect(try await sim.send(.PUT, "/_sim/context", token: nil, body: #"{"context": ""}"#).status == 400)
        }
    }

    @Test("a create body not sent as application/json is 415 and creates nothing", arguments: [
        "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "json", nil,
    ] as [String?])
    func wrongContentType(contentType: String?) async throws {
        try await withSimulator { (sim: SimulatorHarness) async throws in
            let response = try await sim.create(key: "k", contentType: contentType)
            #expect(response.status == 415)
            #expect(response.json?["success"] as? Bool == false)
            #expect(response.errorCode == SimulatorErrorCode.unsupportedMediaType)
            #expect(response.errorPath == ["header", "content-type"])
            #expect(sim.server.control.stats().createsTotal == 0)
        }
    }

    @Test("JSON media types with parameters pass; an empty body needs no type; lenient accepts any")
    func acceptedContentTypes() async throws {
        try await withSimulator { (sim: SimulatorHarness) async throws in
            #expect(try await sim.create(key: "a", contentType: "application/json; charset=utf-8").status == 201)
            #expect(try await sim.create(key: "b", contentType: "Application/JSON").status == 201)
            #expect(try await sim.create(key: "c", contentType: "application/merge-patch+json").status == 201)
            #expect(try await sim.create(key: "d", body: nil, contentType: nil).status == 201)
            sim.server.control.setStrictContentType(false)
            #expect(try await sim.create(key: "e", contentType: "text/plain").status == 201)
        }
        try await withSimulator(configure: { $0.strictContentType = false }) { (sim: SimulatorHarness) async throws in
            #expect(try await sim.create(key: "f", contentType: nil).status == 201)
        }
    }

    /// A request's body and the fault counters, for comparing replays.
    static func bodies(_ sim: SimulatorHarness, key: String, times: Int) async throws -> [String] {
        var bodies: [String] = []
        for _ in 0..<times { bodies.append(try await sim.create(key: key).text) }
        return bodies
    }

    @Test("sticky_bad_body: replays and GETs of the report repeat its bad body byte for byte", arguments: [
        SimulatorFaults(malformedRate: 1, stickyBadBody: true),
        SimulatorFaults(missingStateRate: 1, stickyBadBody: true),
        SimulatorFaults(unknownStateRate: 1, stickyBadBody: true),
        SimulatorFaults(oversizedRate: 1, stickyBadBody: true),
    ])
    func stickyBadBody(faults: SimulatorFaults) async throws {
        try await withSimulator(configure: { $0.faults = faults }) { (sim: SimulatorHarness) async throws in
            let first = try await sim.create(key: "k-bad")
            #expect(first.status == 201)
            let report = try #require(first.header("location")?.split(separator: "/").last.map(String.init))
            #expect(Self.isValidReport(first.text) == false)
            // Faults off: the report keeps its body; a new key gets a clean one.
            try sim.server.control.setFaults(.none)
            let replays = try await Self.bodies(sim, key: "k-bad", times: 2)
            #expect(replays.allSatisfy { $0 == first.text })
            let fetched = try await sim.send(.GET, "/v1/machines/mch_a/drift_reports/\(report)")
            #expect(fetched.text == first.text)
            #expect(Self.isValidReport(try await sim.create(key: "k-good").text))
            let stats = sim.server.control.stats()
            #expect(stats.reportsByKey["k-bad"] == 1)
            #expect(stats.faultsByKind.values.reduce(0, +) == 4, "the create, two replays and the GET sent it")
        }
    }

    @Test("sticky_bad_body: a clean report stays clean under later faults; without sticky a replay is clean")
    func stickyIsPerReport() async throws {
        try await withSimulator { (sim: SimulatorHarness) async throws in
            let clean = try await sim.create(key: "k-clean")
            #expect(Self.isValidReport(clean.text))
            try sim.server.control.setFaults(SimulatorFaults(unknownStateRate: 1, stickyBadBody: true))
            #expect(try await Self.bodies(sim, key: "k-clean", times: 2).allSatisfy { $0 == clean.text })

            try sim.server.control.setFaults(SimulatorFaults(unknownStateRate: 1))
            let bad = try await sim.create(key: "k-once")
            #expect(!Self.isValidReport(bad.text))
            try sim.server.control.setFaults(.none)
            #expect(Self.isValidReport(try await sim.create(key: "k-once").text))
        }
    }

    @Test("odd_fields_rate: optional fields omitted or null, unknown fields added, otherwise valid; replays identical")
    func oddFields() async throws {
        // A fixed clock fixes the report ids, hence which optional-field forms the 24 reports take.
        let clock = ManualClock()
        try await withSimulator(configure: { $0.faults = SimulatorFaults(oddFieldsRate: 1); $0.now = clock.closure }) { (sim: SimulatorHarness) async throws in
            var deltaForms: Set<String> = []
            var snapshotForms: Set<String> = []
            for index in 0..<24 {
                let created = try await sim.create(index % 2 == 0 ? "mch_a" : "mch_b", key: "odd-\(index)")
                #expect(created.status == 201)
                #expect(created.header("location") == nil)
                #expect(Self.isValidReport(created.text), "\(created.text)")
                let object = try #require(created.json)
                #expect(object["x_sim"] != nil && object["schema_revision"] != nil)
                deltaForms.insert(Self.form(object, "delta"))
                snapshotForms.insert(Self.form(object, "provider_snapshot"))
                if let snapshot = object["provider_snapshot"] as? [String: Any] {
                    #expect(snapshot["fetched_at"] != nil)
                    // Integers beyond 2^53 are sent as exact digits.
                    #expect(created.text.contains(#""volume_id":9007199254740993"#))
                    #expect(created.text.contains(#""serial":18446744073709551615"#))
                }
                #expect(try await sim.create(index % 2 == 0 ? "mch_a" : "mch_b", key: "odd-\(index)").text == created.text)
            }
            #expect(deltaForms == ["absent", "null", "present"])
            #expect(snapshotForms == ["absent", "null", "present"])
        }
        try await withSimulator { (sim: SimulatorHarness) async throws in
            let plain = try await sim.create(key: "plain")
            #expect(plain.json?["x_sim"] == nil)
            #expect(plain.header("location") != nil)
        }
    }

    /// "absent", "null" or "present" for an optional member.
    static func form(_ object: [String: Any], _ key: String) -> String {
        guard let value = object[key] else { return "absent" }
        return value is NSNull ? "null" : "present"
    }

    /// The contract's DriftReport: a JSON object with every required field of the right type, a valid
    /// state, optional members absent or objects (or null, which odd reports send on purpose), checked
    /// here independently of the client.
    static func isValidReport(_ text: String) -> Bool {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              text.utf8.count <= 1 << 20 else { return false }
        for key in ["id", "machine_id", "etag"] where !(object[key] is String) { return false }
        guard let state = object["state"] as? String, ["in_sync", "drifted"].contains(state) else { return false }
        for key in ["created_at", "started_at", "expires_at"] {
            guard let value = object[key] as? Int, value >= 0 else { return false }
        }
        for key in ["delta", "provider_snapshot"] {
            if let value = object[key], !(value is NSNull), !(value is [String: Any]) { return false }
        }
        if let snapshot = object["provider_snapshot"] as? [String: Any] {
            guard snapshot["provider"] is String, snapshot["raw_attrs"] is [String: Any] else { return false }
        }
        return true
    }
}
