import DriftTestSupport
import Foundation
import Testing

/// deploy/prometheus/akua-driftd.rules.yml as Prometheus itself reads it: `promtool check rules` validates
/// every rule, `promtool test rules` unit-tests AkuaDriftdReloadFailed and AkuaDriftdWebhookBacklog.
@Suite struct MetricsRulesTests {
    static let rules = PackagePaths.root + "/deploy/prometheus/akua-driftd.rules.yml"
    static let ruleTests = PackagePaths.root + "/deploy/prometheus/akua-driftd.rules.test.yml"

    @Test("promtool check rules accepts the alerting rules, and they are the ones the README lists",
          .enabled(if: TestPreconditions.tool("promtool") != nil, MetricsTools.reason))
    func checkRules() async throws {
        let dir = try TemporaryDirectory("akua-driftd-rules")
        let result = try await ChildProcess.run("/usr/bin/promtool", ["check", "rules", Self.rules], logDirectory: dir.path, name: "promtool")
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("SUCCESS: 8 rules found"))
        let text = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let alerts = text.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("- alert:") ? trimmed.dropFirst(8).trimmingCharacters(in: .whitespaces) : nil
        }
        let readme = try String(contentsOfFile: PackagePaths.root + "/README.md", encoding: .utf8)
        for alert in alerts { #expect(readme.contains("`\(alert)`"), "README does not list \(alert)") }
    }

    @Test("promtool test rules: the reload-failed and webhook-backlog alerts fire when, and only when, they should",
          .enabled(if: TestPreconditions.tool("promtool") != nil, MetricsTools.reason))
    func unitTestRules() async throws {
        let dir = try TemporaryDirectory("akua-driftd-rules")
        let result = try await ChildProcess.run("/usr/bin/promtool", ["test", "rules", Self.ruleTests], logDirectory: dir.path, name: "promtool")
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("SUCCESS"))
    }
}
