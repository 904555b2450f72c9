import DriftCore
import DriftMetrics
import DriftTestSupport
import Foundation
import Testing

/// `DaemonMetrics.scrape` on its own: what `per_machine` adds, and label sets that vanish (a machine or a
/// webhook removed by a reload) leaving the exposition, as prometheus_client parses it.
@Suite struct DaemonMetricsTests {
    private func parse(_ bytes: [UInt8]) async throws -> [ScrapedSample] {
        let dir = try TemporaryDirectory("akua-driftd-metrics-unit")
        let file = try dir.write("scrape.txt", String(decoding: bytes, as: UTF8.self))
        let parsed = try await ChildProcess.run(
            MetricsTools.python, [PackagePaths.root + "/Tests/Support/metrics-parse.py", file], logDirectory: dir.path, name: "parse")
        guard parsed.status == 0 else { throw HarnessError("prometheus_client cannot parse the scrape: \(parsed.stderr)") }
        return try parsed.stdout.split(separator: "\n").map { try JSONDecoder().decode(ScrapedSample.self, from: Data($0.utf8)) }
    }

    @Test("per_machine = true: one akua_driftd_machines series per machine (value 1) and no others; a removed machine's series goes",
          .enabled(if: MetricsTools.available, MetricsTools.reason))
    func perMachineSeries() async throws {
        let metrics = DaemonMetrics(perMachine: true)
        let fleet = FleetSummary(inSync: 2, drifted: 1)
        var snapshot = MetricsSnapshot(
            summary: fleet, machineStates: [("mch_a", .inSync), ("mch_b", .inSync), ("mch_c", .drifted)],
            webhooks: [.init(name: "ops", pending: 2, oldestPendingSeconds: 90, disabled: false)])
        var machines = try await parse(metrics.scrape(snapshot)).filter { $0.name == "akua_driftd_machines" }
        #expect(Set(machines.map { "\($0.labels["machine"] ?? "-")=\($0.labels["state"] ?? "-")" }) == ["mch_a=in_sync", "mch_b=in_sync", "mch_c=drifted"])
        #expect(machines.allSatisfy { $0.value == 1 })

        snapshot.machineStates = [("mch_a", .unknown), ("mch_b", .inSync)]
        snapshot.webhooks = []
        let second = try await parse(metrics.scrape(snapshot))
        machines = second.filter { $0.name == "akua_driftd_machines" }
        #expect(Set(machines.map { "\($0.labels["machine"] ?? "-")=\($0.labels["state"] ?? "-")" }) == ["mch_a=unknown", "mch_b=in_sync"])
        #expect(!second.contains { $0.name.hasPrefix("akua_driftd_webhook_outbox") }, "a removed webhook's gauges go")
    }

    @Test("per_machine = false: the state gauge has the three states and no machine label",
          .enabled(if: MetricsTools.available, MetricsTools.reason))
    func aggregateSeries() async throws {
        let metrics = DaemonMetrics(perMachine: false)
        let samples = try await parse(metrics.scrape(MetricsSnapshot(
            summary: FleetSummary(inSync: 5, drifted: 2, unknown: 1, failing: 1), stale: 1,
            machineStates: [("mch_a", .inSync)])))
        let machines = samples.filter { $0.name == "akua_driftd_machines" }
        #expect(Dictionary(uniqueKeysWithValues: machines.map { ($0.labels["state"] ?? "", $0.value) }) == ["in_sync": 5, "drifted": 2, "unknown": 1])
        #expect(machines.allSatisfy { $0.labels["machine"] == nil })
        #expect(samples.first { $0.name == "akua_driftd_machines_failing" }?.value == 1)
        #expect(samples.first { $0.name == "akua_driftd_machines_stale" }?.value == 1)
    }
}
