import DriftCore
import Foundation
import Testing

@testable import AkuaAPI

@Suite("Response decoding")
struct WireDecodingTests {
    static let validReport = """
        {"id":"dr_1","machine_id":"mch_a","state":"drifted","etag":"e1","created_at":1700000000,
         "started_at":1699999990,"expires_at":1700000900,
         "delta":{"cpu":{"desired":2,"actual":4},"labels":{"desired":{"env":"prod"},"actual":{"env":"dev"}}},
         "provider_snapshot":{"provider":"hcloud","raw_attrs":{"cpu":4,"name":"web-1","tags":["a",null,true,1.5]}},
         "future_field":{"nested":[1,2,3]}}
        """

    static let validError = """
        {"success":false,"errors":[{"code":7002,"message":"Resource not found","path":["path","id"],
         "metadata":{"resource":"machine","id":"mch_a"}}],"result":{}}
        """

    func reason<T: Decodable>(_ type: T.Type, _ json: String) -> String? {
        do {
            _ = try WireDecoding.decode(T.self, from: Data(json.utf8))
            return nil
        } catch {
            switch error {
            case .badResponse(let reason), .invalidReport(let reason): return reason
            default: return "not a body error: \(error)"
            }
        }
    }

    func mutate(_ key: String, to value: String?) -> String {
        var object = try! JSONSerialization.jsonObject(with: Data(Self.validReport.utf8)) as! [String: Any]
        if let value {
            object[key] = try! JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        } else {
            object.removeValue(forKey: key)
        }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test("a valid report decodes, unknown fields ignored")
    func valid() throws {
        let report = try WireDecoding.decode(DriftReport.self, from: Data(Self.validReport.utf8))
        #expect(report.id == "dr_1")
        #expect(report.state == .drifted)
        #expect(report.differingAttributes == ["cpu", "labels"])
        #expect(report.providerSnapshot?.provider == "hcloud")
        #expect(report.expiresAt == 1_700_000_900)
    }

    @Test("readable reasons for bad reports")
    func reasons() {
        #expect(reason(DriftReport.self, mutate("state", to: nil)) == "missing required field state")
        #expect(reason(DriftReport.self, mutate("state", to: #""exploded""#)) == #"invalid state "exploded""#)
        #expect(reason(DriftReport.self, mutate("state", to: "null")) == "missing required field state (null)")
        #expect(reason(DriftReport.self, mutate("etag", to: nil)) == "missing required field etag")
        #expect(reason(DriftReport.self, mutate("created_at", to: #""soon""#))
            == #"field created_at has the wrong type (expected integer, got "soon")"#)
        #expect(reason(DriftReport.self, mutate("expires_at", to: "-5")) == "invalid expires_at -5: must be >= 0")
        #expect(reason(DriftReport.self, mutate("machine_id", to: #""""#))?.hasPrefix(#"invalid machine_id """#) == true)
        #expect(reason(DriftReport.self, mutate("provider_snapshot", to: #"{"raw_attrs":{}}"#))
            == "missing required field provider_snapshot.provider")
        #expect(reason(DriftReport.self, "[1,2]")?.hasPrefix("expected a JSON object") == true)
        #expect(reason(DriftReport.self, "") == "empty body")
        #expect(reason(DriftReport.self, #"{"id":"dr_1","#)?.hasPrefix("malformed JSON") == true)
        #expect(reason(Page<DriftReport>.self, #"{"data":[\#(mutate("state", to: nil))],"has_more":false}"#)
            == "missing required field data[0].state")
        #expect(reason(Page<DriftReport>.self, #"{"data":[],"has_more":true,"next_cursor":null}"#)
            == "invalid next_cursor null: has_more is true but next_cursor is missing")
        #expect(reason(Page<DriftReport>.self, #"{"data":[]}"#) == "missing required field has_more")
    }

    @Test("a valid error body decodes")
    func errorBody() throws {
        let body = try JSONDecoder().decode(ApiErrorResponse.self, from: Data(Self.validError.utf8))
        #expect(body.errors.first?.code == 7002)
        #expect(body.errors.first?.path == ["path", "id"])
        #expect(body.errors.first?.metadata?["resource"] == "machine")
    }

    /// Seeded byte-level and structural mutations of valid bodies through every decoding path.
    @Test("decoder fuzz: thousands of mutated bodies never crash", arguments: [1, 2, 3] as [UInt64])
    func fuzz(seed: UInt64) async {
        var rng = TestRNG(seed: seed)
        let seeds = [Self.validReport, Self.validError, #"{"data":[\#(Self.validReport)],"has_more":true,"next_cursor":"c"}"#]
        let endpoints: [AkuaEndpoint] = [
            .createDriftReport(machineID: "mch_a"), .getDriftReport(machineID: "mch_a", reportID: "r"), .listMachines,
        ]
        var decoded = 0
        for iteration in 0..<1_500 {
            // Yield now and then, so the loopback HTTP tests beside this CPU-bound loop keep their timeouts.
            if iteration % 32 == 0 { await Task.yield() }
            let original = Array(seeds[iteration % seeds.count].utf8)
            let body = Data(Self.mutateBytes(original, rng: &rng))
            switch Result(catching: { () throws(AkuaAPIError) in try WireDecoding.decode(DriftReport.self, from: body) }) {
            case .success: decoded += 1
            case .failure(let error):
                let reason: String
                switch error {
                case .badResponse(let text), .invalidReport(let text): reason = text
                default:
                    Issue.record("unexpected error \(error)")
                    continue
                }
                #expect(!reason.isEmpty && !reason.contains("\n") && reason.count < 400, "\(reason)")
            }
            _ = try? WireDecoding.decode(Page<DriftReport>.self, from: body)
            _ = try? WireDecoding.decode(Page<Machine>.self, from: body)
            _ = try? JSONDecoder().decode(ApiErrorResponse.self, from: body)
            let status = [400, 401, 404, 409, 422, 429, 503][Int(rng.next() % 7)]
            let error = AkuaAPIError.classify(
                status: status, headers: [("retry-after", "3")], body: body,
                endpoint: endpoints[Int(rng.next() % 3)], secrets: ["sk_secret"])
            #expect(!"\(error)".contains("\n"))
        }
        // Some mutations keep the body valid; most must fail cleanly.
        #expect(decoded < 1_500)
    }

    @Test("deep nesting in free-form fields never crashes", arguments: [10, 255, 500, 511, 512, 600, 5_000, 100_000])
    func deepNesting(depth: Int) {
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let body = Self.validReport.replacingOccurrences(of: #""delta":{"#, with: #""delta":{"x":\#(nested),"#)
        switch Result(catching: { () throws(AkuaAPIError) in try WireDecoding.decode(DriftReport.self, from: Data(body.utf8)) }) {
        case .success(let report): #expect(report.delta?["x"] != nil)
        case .failure(let error):
            // Too deep for JSONDecoder, yet one complete document: a replay would be the same.
            #expect(error.isSchemaViolation, "\(error)")
        }
    }

    static func mutateBytes(_ input: [UInt8], rng: inout TestRNG) -> [UInt8] {
        var bytes = input
        let interesting: [[UInt8]] = [
            Array("null".utf8), Array("\"".utf8), Array("{".utf8), Array("}".utf8), Array("[".utf8),
            Array("\\u0000".utf8), Array("\\ud800".utf8), Array("1e999".utf8), Array("-0".utf8),
            Array("99999999999999999999".utf8), Array("\"exploded\"".utf8), Array(String(repeating: "[", count: 600).utf8),
            [0xFF, 0xFE], [0xC3], Array("é💥".utf8), Array(",".utf8), Array(":".utf8), Array("true".utf8),
        ]
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            guard !bytes.isEmpty else { break }
            let position = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 7 {
            case 0: bytes[position] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
            case 1: bytes.remove(at: position)
            case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
            case 3: bytes.insert(contentsOf: interesting[Int(rng.next() % UInt64(interesting.count))], at: position)
            case 4:
                let end = min(bytes.count, position + 1 + Int(rng.next() % 40))
                bytes.removeSubrange(position..<end)
            case 5: bytes = Array(bytes.prefix(position))
            default:
                let end = min(bytes.count, position + 1 + Int(rng.next() % 60))
                bytes.insert(contentsOf: bytes[position..<end], at: end)
            }
        }
        return bytes
    }
}
