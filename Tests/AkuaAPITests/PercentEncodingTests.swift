import Testing

@testable import AkuaAPI

@Suite("Path and query encoding")
struct PercentEncodingTests {
    @Test("every character outside the unreserved set is encoded", arguments: [
        ("mch_a-1.b~", "mch_a-1.b~"), ("a/b", "a%2Fb"), ("a?b", "a%3Fb"), ("a#b", "a%23b"), ("100%", "100%25"),
        ("a b", "a%20b"), ("é", "%C3%A9"), ("💥", "%F0%9F%92%A5"), ("a+b&c=d;e", "a%2Bb%26c%3Dd%3Be"), ("", ""),
    ])
    func encode(input: String, expected: String) {
        #expect(PercentEncoding.encode(input) == expected)
    }

    @Test("dot segments cannot walk the path")
    func dotSegments() {
        #expect(AkuaEndpoint.createDriftReport(machineID: "..").path == "/machines/%2E%2E/drift_reports")
        #expect(AkuaEndpoint.createDriftReport(machineID: ".").path == "/machines/%2E/drift_reports")
        #expect(AkuaEndpoint.getDriftReport(machineID: "a/../b", reportID: "r?x").path
            == "/machines/a%2F..%2Fb/drift_reports/r%3Fx")
    }

    @Test("queries skip nil values and encode both sides")
    func query() {
        #expect(PercentEncoding.query([("cursor", "a&b=c d"), ("limit", nil), ("state", "in_sync")])
            == "cursor=a%26b%3Dc%20d&state=in_sync")
        #expect(PercentEncoding.query([("limit", nil)]) == "")
    }
}
