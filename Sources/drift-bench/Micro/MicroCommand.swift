import AkuaAPI
import AkuaSimulator
import ArgumentParser
import AsyncHTTPClient
import DriftCore
import DriftStore
import DriftWebhooks
import Foundation
import NIOCore

/// `drift-bench micro`: micro-benchmarks of the per-check hot paths, on real inputs (report bodies
/// produced by the simulator, a real state file).
struct MicroCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "micro", abstract: "Micro-benchmarks of the hot paths (ns/op, allocations/op with bench/malloc-count.so preloaded).")

    @Flag(help: "Tiny time budget (make bench-smoke): checks that every benchmark runs, numbers are rough.")
    var quick = false

    @Option(help: "Write the results as JSON to this file.")
    var out: String?

    func run() async throws {
        let harness = MicroHarness(warmupSeconds: quick ? 0.01 : 0.2, budgetSeconds: quick ? 0.03 : 1.0)
        let bodies = try await Self.reportBodies()
        let decoder = JSONDecoder()
        let inSync = try decoder.decode(DriftReport.self, from: bodies.inSync)
        let drifted = try decoder.decode(DriftReport.self, from: bodies.drifted)
        var results: [MicroHarness.Result] = []
        func run(_ name: String, operations: Int = 1, _ body: () throws -> Void) rethrows {
            let result = try harness.measure(name, operationsPerCall: operations, body)
            results.append(result)
            FileHandle.standardError.write(Data("\(name): \(fmt(result.nsPerOpMedian, 0)) ns/op\n".utf8))
        }

        var slot: Int64 = 1_795_954_729_000
        run("idempotency key (SHA-256, 59 chars)") {
            slot += 1
            blackHole(IdempotencyKey(machineID: "mch_sim_004242", occurrence: Occurrence(kind: .scheduled, at: slot), trigger: "schedule").value)
        }
        run("report decoding, in_sync (fast reader, as AkuaClient)") {
            blackHole(ReportParser.report(bodies.inSync)!)
        }
        run("report decoding, drifted with delta (fast reader)") {
            blackHole(ReportParser.report(bodies.drifted)!)
        }
        try run("report decoding, in_sync (JSONDecoder, the fallback)") {
            blackHole(try JSONDecoder().decode(DriftReport.self, from: bodies.inSync))
        }
        try run("report decoding, drifted with delta (JSONDecoder)") {
            blackHole(try JSONDecoder().decode(DriftReport.self, from: bodies.drifted))
        }
        let now = (inSync.createdAt + 1) * 1000
        run("transition detection, no change") {
            blackHole(TransitionRules.afterReport(
                machineID: "mch_sim_004242", machineName: "sim-004242", current: .inSync, everObserved: true, report: inSync, now: now))
        }
        run("transition detection, change (event id)") {
            blackHole(TransitionRules.afterReport(
                machineID: "mch_sim_004242", machineName: "sim-004242", current: .inSync, everObserved: true, report: drifted, now: now))
        }
        let transition = TransitionRules.afterReport(
            machineID: "mch_sim_004242", machineName: "sim-004242", current: .inSync, everObserved: true, report: drifted, now: now)!
        run("webhook payload (JSON body of a transition)") {
            blackHole(WebhookPayload.body(for: transition))
        }

        // The state file: 10,000 machines, one report written per check as the engine does.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drift-bench-micro-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try AppDatabase.open(path: directory + "/state.sqlite")
        let ids = (1...10_000).map { "mch_sim_" + String(format: "%06d", $0) }
        try database.configureMachines(ids.map { (id: $0, name: nil) })
        var next = 0
        func check(_ report: DriftReport) -> CheckRecord {
            next = (next + 1) % ids.count
            var record = CheckRecord(machineID: ids[next], checkedAt: now, report: report, completedSlot: slot, nextDueAt: slot + 3_600_000)
            record.report?.machineID = ids[next]
            return record
        }
        try run("database write per check, 1 per transaction") {
            try database.record([check(inSync)])
        }
        try run("database write per check, 32 per transaction", operations: 32) {
            try database.record((0..<32).map { _ in check(inSync) })
        }

        // The scheduler: 10,000 machines at a 10 s interval, fire and complete 100 checks per call.
        var core = SchedulerCore(settings: SchedulerSettings(maxInFlight: 64), seed: 1)
        var clock: Int64 = 1_795_954_729_000
        core.setMachines(ids.map { MachinePlan(id: $0, intervalMs: 10_000) }, now: clock)
        run("scheduler fire + complete per check", operations: 100) {
            var done = 0
            while done < 100 {
                clock += 1
                for action in core.fire(now: clock) {
                    if case .check(let id, let occurrence, _, _) = action {
                        core.complete(machineID: id, occurrence: occurrence,
                                      outcome: .report(createdAtMs: clock, expiresAtMs: clock + 7_200_000), now: clock)
                        done += 1
                    }
                }
            }
        }

        print(Self.table(results))
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(results).write(to: URL(fileURLWithPath: out))
            print("\nJSON: \(out)")
        }
    }

    static func table(_ results: [MicroHarness.Result]) -> String {
        let headers = ["hot path", "ns/op (median)", "ns/op (best)", "allocations/op"]
        let rows = results.map {
            [$0.name, fmt($0.nsPerOpMedian, 0), fmt($0.nsPerOpBest, 0), $0.allocationsPerOp.map { fmt($0, 1) } ?? "n/a"]
        }
        var widths = headers.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: " | ") + " |"
        }
        var out = [line(headers), "|" + widths.enumerated().map { i, w in String(repeating: "-", count: w + 1) + (i == 0 ? "-" : ":") }.joined(separator: "|") + "|"]
        out += rows.map(line)
        if !MallocCounter.available { out.append("(allocations: n/a without the counting shim; `make bench` compiles bench/malloc-count.c and preloads it)") }
        return out.joined(separator: "\n")
    }

    /// One in_sync and one drifted report body, as the simulator serves them.
    static func reportBodies() async throws -> (inSync: Data, drifted: Data) {
        let token = "sk_akua_micro"
        let server = try await SimulatorServer.start(options: SimulatorOptions(
            token: token,
            machines: [SimulatedMachine(id: "mch_sim_004242", name: "sim-004242", scenario: .fixed(.inSync)),
                       SimulatedMachine(id: "mch_sim_004243", name: "sim-004243", scenario: .fixed(.drifted))],
            ttlSeconds: 7200))
        func create(_ id: String) async throws -> Data {
            var request = HTTPClientRequest(url: server.baseURL + "/machines/\(id)/drift_reports")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "idempotency-key", value: "v1.micro.\(id)")
            request.body = .bytes(ByteBuffer(string: "{\"trigger\":\"schedule\"}"))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status.code == 201 else { throw BenchError("simulator answered \(response.status.code)") }
            return Data(buffer: body)
        }
        let bodies = (try await create("mch_sim_004242"), try await create("mch_sim_004243"))
        await server.shutdown()
        return bodies
    }
}
