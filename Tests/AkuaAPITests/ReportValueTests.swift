import DriftCore
import Foundation
import Testing

@testable import AkuaAPI

/// Report values no input can break: exact big integers, timestamps bounded to year 9999, and the line
/// between a damaged body (retry) and a complete one that breaks the schema (do not).
@Suite("Report values and body classification")
struct ReportValueTests {
    static func report(
        delta: String = "{}", rawAttrs: String = "{}", createdAt: String = "1700000000",
        startedAt: String = "1700000000", expiresAt: String = "1700000900"
    ) -> String {
        """
        {"id":"dr_1","machine_id":"mch_a","state":"drifted","etag":"e","created_at":\(createdAt),
         "started_at":\(startedAt),"expires_at":\(expiresAt),"delta":\(delta),
         "provider_snapshot":{"provider":"hcloud","raw_attrs":\(rawAttrs)}}
        """
    }

    @Test("integers beyond 2^53 and up to UInt64.max survive decode → JSONEncoder → decode digit for digit",
          arguments: ["9007199254740993", "9223372036854775807", "-9223372036854775808", "18446744073709551615", "0", "-1"])
    func exactIntegers(digits: String) throws {
        let body = Self.report(
            delta: #"{"big":{"desired":\#(digits),"actual":[\#(digits)]}}"#, rawAttrs: #"{"id":\#(digits)}"#)
        let decoded = try WireDecoding.decode(DriftReport.self, from: Data(body.utf8))
        let encoded = String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self)
        #expect(encoded.contains(#""desired":\#(digits)"#), "\(encoded)")
        #expect(encoded.contains("[\(digits)]"), "\(encoded)")
        #expect(encoded.contains(#""id":\#(digits)"#), "\(encoded)")
        let again = try JSONDecoder().decode(DriftReport.self, from: Data(encoded.utf8))
        #expect(again == decoded)
        #expect(decoded.delta?["big"]?.objectValue?["desired"]?.displayText == digits)
    }

    @Test("numbers compare by value across cases; fractions and huge values stay doubles")
    func numberEquality() throws {
        #expect(JSONValue.integer(2) == .number(2.0))
        #expect(JSONValue.unsignedInteger(5) == .integer(5))
        #expect(Set<JSONValue>([.integer(2), .number(2), .unsignedInteger(2)]).count == 1)
        #expect(JSONValue.integer(2) != .number(2.5))
        #expect(JSONValue.integer(1) != .bool(true))
        let decoded = try JSONDecoder().decode([JSONValue].self, from: Data("[1.5, 1e300, 123456789012345678901234567890, -0.25]".utf8))
        #expect(decoded[0] == .number(1.5))
        #expect(decoded[1] == .number(1e300))
        guard case .number = decoded[2] else {
            Issue.record("an integer beyond 64 bits must fall back to a double, got \(decoded[2])")
            return
        }
        #expect(decoded[3] == .number(-0.25))
    }

    @Test("timestamps must lie in 0...253402300799 (year 9999)", arguments: [
        ("253402300799", true), ("253402300800", false), ("10000000000000000", false), ("0", true), ("-1", false),
        ("9223372036854775807", false), ("18446744073709551615", false), ("1.5", false),
    ])
    func timestampRange(value: String, accepted: Bool) {
        for field in ["created_at", "started_at", "expires_at"] {
            let body = Self.report(
                createdAt: field == "created_at" ? value : "1700000000",
                startedAt: field == "started_at" ? value : "1700000000",
                expiresAt: field == "expires_at" ? value : "1700000900")
            do throws(AkuaAPIError) {
                let report = try WireDecoding.decode(DriftReport.self, from: Data(body.utf8))
                #expect(accepted, "\(field)=\(value) accepted")
                // Every seconds→ms conversion of an accepted report is exact.
                #expect(!report.expiresAt.multipliedReportingOverflow(by: 1000).overflow)
            } catch {
                #expect(!accepted, "\(field)=\(value) rejected: \(error)")
                #expect(error.isSchemaViolation, "\(error)")
                guard case .invalidReport(let reason) = error else { continue }
                // The decoder reports numbers that fit no Swift type at the root, without the field.
                #expect(reason.contains(field) || reason.hasPrefix("unusable JSON value"), "\(reason)")
            }
        }
    }

    @Test("every cut of a valid body is transport damage (retryable), never a schema violation")
    func truncations() async {
        let body = Array(Self.report(delta: #"{"cpu":{"desired":2,"actual":4.5},"tags":["a\"b",null,true]}"#).utf8)
        for length in 0..<body.count {
            // CPU-bound loops yield now and then, so the loopback HTTP tests beside them keep their timeouts.
            if length % 32 == 0 { await Task.yield() }
            let cut = Data(body[0..<length])
            #expect(!JSONSyntax.isCompleteDocument(cut), "prefix \(length)")
            do throws(AkuaAPIError) {
                _ = try WireDecoding.decode(DriftReport.self, from: cut)
                Issue.record("prefix \(length) decoded")
            } catch {
                #expect(error.isRetryable && !error.isSchemaViolation, "prefix \(length): \(error)")
            }
        }
        #expect(JSONSyntax.isCompleteDocument(Data(body)))
        #expect(JSONSyntax.isCompleteDocument(Data(" \n\(String(decoding: body, as: UTF8.self))\t ".utf8)))
    }

    @Test("JSON syntax check: everything JSONSerialization accepts is complete; known incomplete forms are not")
    func syntaxOracle() async {
        let complete = [
            "{}", "[]", "0", "-0.5e+10", "\"a\\u00e9\\n\"", "true", "null", #"{"a":[1,{"b":null}],"c":"\\\""}"#,
            String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000),
            // Foundation's parser, which the decoder uses, tolerates a trailing comma: whole documents to it.
            #"{"a":1,}"#, "[1,]",
        ]
        for text in complete {
            #expect(JSONSyntax.isCompleteDocument(Data(text.utf8)), "\(text.prefix(40))")
        }
        let incomplete = [
            "", " ", "{", "[1,", #"{"a""#, #"{"a":"#, "[,]", "{,}", "[1,,]", "[1 2]", "01", "1.", "-", "1e", "tru", "nul",
            "\"abc", "\"\\u12\"", "{}{}", "{} x", #"{"a":1}<!--"#, "{\"a\":\"\u{01}\"}", "[1]]",
        ]
        for text in incomplete {
            #expect(!JSONSyntax.isCompleteDocument(Data(text.utf8)), "\(text)")
        }
        var rng = TestRNG(seed: 42)
        let seed = Array(Self.report(delta: #"{"x":[1,2.5,"s",{"y":null}]}"#).utf8)
        for iteration in 0..<2_000 {
            if iteration % 32 == 0 { await Task.yield() }
            let mutated = Data(WireDecodingTests.mutateBytes(seed, rng: &rng))
            if (try? JSONSerialization.jsonObject(with: mutated, options: .fragmentsAllowed)) != nil {
                #expect(JSONSyntax.isCompleteDocument(mutated), "\(String(decoding: mutated, as: UTF8.self))")
            }
        }
    }

    /// Random JSON for a report field: right and wrong types, edge numbers, deep and wide values.
    static func randomValue(_ rng: inout TestRNG, depth: Int = 0) -> String {
        let numbers = [
            "0", "-0", "1", "-1", "9007199254740993", "9223372036854775807", "9223372036854775808",
            "18446744073709551615", "18446744073709551616", "-9223372036854775809", "1e308", "1e999", "-1e999",
            "253402300799", "253402300800", "10000000000000000", "0.5", "1E2", "4.9e-324",
        ]
        switch rng.next() % (depth > 4 ? 5 : 8) {
        case 0: return numbers[Int(rng.next() % UInt64(numbers.count))]
        case 1: return ["\"in_sync\"", "\"drifted\"", "\"exploded\"", "\"\"", "\"é💥\\u0000\""][Int(rng.next() % 5)]
        case 2: return ["true", "false", "null"][Int(rng.next() % 3)]
        case 3: return "\"mch_a\""
        case 4: return numbers[Int(rng.next() % 4)]
        case 5:
            let count = Int(rng.next() % 4)
            return "[" + (0..<count).map { _ in randomValue(&rng, depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            let count = Int(rng.next() % 4)
            return "{" + (0..<count).map { i in "\"k\(i)\":" + randomValue(&rng, depth: depth + 1) }.joined(separator: ",") + "}"
        }
    }

    @Test("property: arbitrary report bodies never crash the decoder; what decodes is in range and round-trips",
          arguments: [7, 8, 9] as [UInt64])
    func arbitraryReports(seed: UInt64) async throws {
        var rng = TestRNG(seed: seed)
        let fields = ["id", "machine_id", "state", "etag", "created_at", "started_at", "expires_at", "delta", "provider_snapshot"]
        var decoded = 0
        for iteration in 0..<1_000 {
            if iteration % 16 == 0 { await Task.yield() }
            var members: [String] = []
            for field in fields where rng.next() % 20 != 0 {
                let value: String
                // Mostly well-typed values (with random free-form content), sometimes anything at all.
                switch (field, rng.next() % 8 != 0) {
                case ("id", true), ("etag", true): value = "\"x\""
                case ("machine_id", true): value = "\"mch_a\""
                case ("state", true): value = ["\"in_sync\"", "\"drifted\""][Int(rng.next() % 2)]
                case ("created_at", true), ("started_at", true), ("expires_at", true):
                    value = String(rng.next() % 253_402_300_800)
                case ("delta", true): value = #"{"a":"# + Self.randomValue(&rng) + #","b":"# + Self.randomValue(&rng) + "}"
                case ("provider_snapshot", true):
                    value = #"{"provider":"p","raw_attrs":{"r":"# + Self.randomValue(&rng) + "}}"
                default: value = Self.randomValue(&rng)
                }
                members.append("\"\(field)\":\(value)")
            }
            if rng.next() % 4 == 0 { members.append("\"unknown_\(rng.next() % 9)\":" + Self.randomValue(&rng)) }
            let body = Data(("{" + members.joined(separator: ",") + "}").utf8)
            let report: DriftReport
            do throws(AkuaAPIError) {
                report = try WireDecoding.decode(DriftReport.self, from: body)
            } catch {
                // A complete document: never mistaken for transport damage.
                guard case .invalidReport(let reason) = error else {
                    Issue.record("\(error) for \(String(decoding: body, as: UTF8.self))")
                    continue
                }
                #expect(!reason.isEmpty && !reason.contains("\n"))
                continue
            }
            decoded += 1
            for timestamp in [report.createdAt, report.startedAt, report.expiresAt] {
                #expect((0...DriftReport.maxTimestamp).contains(timestamp))
            }
            let encoded = try JSONEncoder().encode(report)
            #expect(try JSONDecoder().decode(DriftReport.self, from: encoded) == report)
        }
        #expect(decoded > 0)
    }
}
