import DriftCore
import Foundation
import Testing

@testable import AkuaAPI

/// The fast report reader against an independent oracle, Foundation's `JSONDecoder`: whatever the fast
/// path answers, `JSONDecoder` must decode to the same report; and for ordinary reports it must answer
/// (or the check path silently falls back to the slow decoder and the test proves nothing).
@Suite("Fast report reader against JSONDecoder")
struct ReportParserTests {
    static func oracle(_ body: Data) -> DriftReport? { try? JSONDecoder().decode(DriftReport.self, from: body) }

    @Test("random valid reports: the fast path answers, and answers what JSONDecoder decodes", arguments: [11, 12, 13] as [UInt64])
    func randomReports(seed: UInt64) {
        print("ReportParserTests seed \(seed)")
        var rng = TestRNG(seed: seed)
        for _ in 0..<400 {
            let body = Data(Self.randomReport(rng: &rng).utf8)
            let fast = ReportParser.report(body)
            let slow = Self.oracle(body)
            #expect(fast != nil, "the fast path refused a valid report: \(String(decoding: body, as: UTF8.self))")
            #expect(slow != nil)
            #expect(fast == slow, "\(String(decoding: body, as: UTF8.self))")
        }
    }

    @Test("mutated reports: whatever the fast path accepts, JSONDecoder decodes the same", arguments: [21, 22, 23] as [UInt64])
    func mutations(seed: UInt64) {
        print("ReportParserTests seed \(seed)")
        var rng = TestRNG(seed: seed)
        var accepted = 0, refused = 0
        for iteration in 0..<3_000 {
            let original = iteration % 2 == 0 ? Array(WireDecodingTests.validReport.utf8) : Array(Self.randomReport(rng: &rng).utf8)
            let body = Data(WireDecodingTests.mutateBytes(original, rng: &rng))
            guard let fast = ReportParser.report(body) else {
                refused += 1
                continue
            }
            accepted += 1
            #expect(Self.oracle(body) == fast, "\(String(decoding: body, as: UTF8.self))")
        }
        // Both sides of the comparison happen: some mutations keep a valid report, most do not.
        #expect(accepted > 0 && refused > 0)
    }

    @Test("what the fast path leaves to JSONDecoder", arguments: [
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":2,}"#,
        #"{"id":"r","id":"s","machine_id":"m","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":2}"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":1.0,"started_at":1,"expires_at":2}"#,
        #"{"id":"r","machine_id":"m","state":"exploded","etag":"e","created_at":1,"started_at":1,"expires_at":2}"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":-1,"started_at":1,"expires_at":2}"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":253402300800}"#,
        #"{"id":"r","machine_id":"","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":2}"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":2,"delta":[]}"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":2,"provider_snapshot":{"provider":"p"}}"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":2,"delta":{"x":1e999}}"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":2,"delta":{"x":"\ud800"}}"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":1,"started_at":1,"expires_at":2} x"#,
        #"{"id":"r","machine_id":"m","state":"drifted","etag":"e","created_at":01,"started_at":1,"expires_at":2}"#,
    ])
    func refused(body: String) {
        #expect(ReportParser.report(Data(body.utf8)) == nil)
    }

    @Test("escapes, surrogate pairs, big and odd numbers decode as JSONDecoder decodes them")
    func oddValues() throws {
        let body = #"""
            {"id":"r\"1\\","machine_id":"m\u00e9","state":"in_sync","etag":"e\/\b\f\n\r\t","created_at":0,
             "started_at":253402300799,"expires_at":5,"delta":null,
             "provider_snapshot":{"provider":"\ud83d\ude00 p","raw_attrs":{"big":18446744073709551615,"bigger":18446744073709551616,
              "min":-9223372036854775808,"f":-0.5e-3,"e":1E2,"z":-0,"u":"\u0000","a":[[],{},[{"k":true}],false,null]}}}
            """#
        let fast = try #require(ReportParser.report(Data(body.utf8)))
        #expect(fast == Self.oracle(Data(body.utf8)))
        #expect(fast.id == "r\"1\\")
        #expect(fast.providerSnapshot?.rawAttrs["big"] == .unsignedInteger(UInt64.max))
        #expect(fast.providerSnapshot?.provider == "😀 p")
    }

    @Test("the state file's JSON writer: JSONDecoder reads back the same value", arguments: [31, 32] as [UInt64])
    func writerRoundTrip(seed: UInt64) throws {
        print("ReportParserTests seed \(seed)")
        var rng = TestRNG(seed: seed)
        for _ in 0..<500 {
            let text = Self.randomObject(depth: 0, rng: &rng)
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            let written = value.jsonText
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(written.utf8)) == value, "\(text) -> \(written)")
            #expect(JSONReader.parse(written) == value)
            // Keys sorted, as JSONEncoder's .sortedKeys writes them (plain code point order for these keys).
            let snapshot = ProviderSnapshot(provider: Self.randomString(rng: &rng), rawAttrs: value.objectValue ?? [:])
            #expect(try JSONDecoder().decode(ProviderSnapshot.self, from: Data(snapshot.jsonText.utf8)) == snapshot)
        }
        #expect(JSONValue.number(0.1).jsonText == "0.1")
        #expect(JSONValue.object(["b": .integer(1), "a": .string("\u{1}\"")]).jsonText == #"{"a":"\u0001\"","b":1}"#)
    }

    // MARK: Generator

    static func randomReport(rng: inout TestRNG) -> String {
        var fields = [
            #""id":\#(quoted(randomString(rng: &rng)))"#,
            #""machine_id":\#(quoted("mch_" + String(rng.next() % 100_000)))"#,
            #""state":\#(rng.next() % 2 == 0 ? "\"in_sync\"" : "\"drifted\"")"#,
            #""etag":\#(quoted(randomString(rng: &rng)))"#,
            #""created_at":\#(rng.next() % 2_000_000_000)"#,
            #""started_at":\#(rng.next() % 2_000_000_000)"#,
            #""expires_at":\#(rng.next() % DriftReport.maxTimestamp.magnitude)"#,
        ]
        switch rng.next() % 3 {
        case 0: fields.append(#""delta":\#(randomObject(depth: 0, rng: &rng))"#)
        case 1: fields.append(#""delta":null"#)
        default: break
        }
        switch rng.next() % 3 {
        case 0: fields.append(#""provider_snapshot":{"provider":\#(quoted(randomString(rng: &rng))),"raw_attrs":\#(randomObject(depth: 0, rng: &rng))}"#)
        case 1: fields.append(#""provider_snapshot":null"#)
        default: break
        }
        if rng.next() % 2 == 0 { fields.append(#""unknown_\#(rng.next() % 1000)":\#(randomValue(depth: 0, rng: &rng))"#) }
        fields.shuffle(using: &rng)
        let spaces = [" ", "", "\n", "\t", "\r\n  "]
        return "{" + fields.joined(separator: "," + spaces[Int(rng.next() % 5)]) + "}"
    }

    static func randomValue(depth: Int, rng: inout TestRNG) -> String {
        switch rng.next() % (depth > 4 ? 6 : 8) {
        case 0: return "null"
        case 1: return rng.next() % 2 == 0 ? "true" : "false"
        case 2: return String(Int64(bitPattern: rng.next()) >> (rng.next() % 64))
        case 3:
            let numbers = ["0", "-0", "1.5", "-2.25e3", "1E-7", "18446744073709551615", "18446744073709551616",
                           "9223372036854775807", "-9223372036854775808", "123456789012345678901234567890", "0.1", "3.0"]
            return numbers[Int(rng.next() % UInt64(numbers.count))]
        case 4, 5: return quoted(randomString(rng: &rng))
        case 6: return randomObject(depth: depth + 1, rng: &rng)
        default:
            let count = Int(rng.next() % 4)
            return "[" + (0..<count).map { _ in randomValue(depth: depth + 1, rng: &rng) }.joined(separator: ",") + "]"
        }
    }

    static func randomObject(depth: Int, rng: inout TestRNG) -> String {
        let count = Int(rng.next() % 5)
        var keys = Set<String>()
        var members: [String] = []
        for _ in 0..<count {
            let key = randomString(rng: &rng)
            guard keys.insert(key).inserted else { continue }
            members.append(quoted(key) + ":" + randomValue(depth: depth + 1, rng: &rng))
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func randomString(rng: inout TestRNG) -> String {
        let pieces = ["a", "web-1", "é", "😀", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{7f}", "日本", " ", "\u{0}"]
        return (0..<Int(rng.next() % 6)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
    }

    /// A JSON string literal with every escape form, chosen at random by the content (independent of the reader).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += "\\/"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\u{01}", "\u{0}", "\u{7f}": out += String(format: "\\u%04x", scalar.value)
            case "😀": out += "\\ud83d\\ude00"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
