import AkuaSimulator
import DriftTestSupport
import Foundation
import Logging
import Testing

/// Issue 10 §6 (fleet onboarding): `akua-driftd machines import` against akua-sim over loopback: every page,
/// the filters, stdout or an atomic drop-in that `check-config` then counts, and contract violations
/// rejected before any request.
@Suite("akua-driftd machines import")
struct MachinesImportTests {
    static let token = "sk_akua_import_test_token_42"

    /// Runs the binary with a minimal environment; its exit status, stdout and stderr.
    func run(_ arguments: [String], in dir: TemporaryDirectory, name: String) async throws -> (Int32, String, String) {
        let child = try ChildProcess(
            try PackagePaths.binary("akua-driftd"), arguments, environment: ["PATH": "/usr/bin:/bin"],
            logDirectory: dir.path, name: name)
        let status = try await child.waitForExit(timeout: .seconds(60))
        return (status, child.stdout, child.stderr)
    }

    /// requests_total from the simulator's admin API, read with curl (an independent client) as a child
    /// process waited for without blocking the cooperative pool (the simulator's handlers run there).
    func requestsTotal(_ simulator: SimulatorServer, _ dir: TemporaryDirectory) async throws -> Int {
        let curl = try ChildProcess(
            "/usr/bin/curl", ["-fsS", "--max-time", "10", simulator.adminURL + "/stats"], logDirectory: dir.path, name: "stats")
        let status = try await curl.waitForExit(timeout: .seconds(20))
        guard status == 0, let object = try JSONSerialization.jsonObject(with: Data(curl.stdout.utf8)) as? [String: Any],
              let total = object["requests_total"] as? Int else { throw HarnessError("cannot read /_sim/stats: \(curl.stderr)") }
        return total
    }

    @Test("lists every page and prints or writes [[machine]] blocks that the config accepts",
          .enabled(if: TestPreconditions.tool("curl") != nil, "needs curl to read the simulator's stats"))
    func importsEveryPage() async throws {
        let dir = try TemporaryDirectory("akua-machines-import")
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        let machines = (1...23).map {
            SimulatedMachine(id: "mch_imp\($0)", name: $0 % 2 == 0 ? "node \"\($0)\"" : nil, clusterID: $0 <= 5 ? "cls_edge" : "cls_core")
        }
        let simulator = try await SimulatorServer.start(
            options: SimulatorOptions(token: Self.token, machines: machines), logger: logger)
        defer { Task { await simulator.shutdown() } }
        let tokenFile = try dir.write("token", Self.token)
        let config = try dir.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            [[machine]]
            id = "mch_existing"
            """)

        // Every page (23 machines, 5 per page), printed.
        let probe = try await requestsTotal(simulator, dir)
        let before = try await requestsTotal(simulator, dir)
        let statsCost = before - probe  // whether a stats request counts itself
        let (status, stdout, stderr) = try await run(["machines", "import", "--config", config, "--limit", "5"], in: dir, name: "import-all")
        #expect(status == 0, "\(stderr)")
        #expect(try await requestsTotal(simulator, dir) - before == 5 + statsCost, "one request per page")
        let ids = stdout.split(separator: "\n").filter { $0.hasPrefix("id = ") }.map { String($0.dropFirst(6).dropLast()) }
        #expect(ids == machines.map(\.id))
        #expect(stdout.contains("name = \"node \\\"2\\\"\""))
        #expect(!stdout.contains(Self.token) && !stderr.contains(Self.token))

        // A filter, written atomically to machines.d, which check-config then counts.
        try FileManager.default.createDirectory(atPath: dir.file("machines.d"), withIntermediateDirectories: true)
        let dropIn = dir.file("machines.d/50-edge.toml")
        let (written, _, writeErr) = try await run(
            ["machines", "import", "--config", config, "--cluster", "cls_edge", "--state", "ACTIVE", "--output", dropIn],
            in: dir, name: "import-edge")
        #expect(written == 0, "\(writeErr)")
        #expect(writeErr.contains("wrote 5 machines to \(dropIn)"))
        let text = try String(contentsOfFile: dropIn, encoding: .utf8)
        #expect(text.components(separatedBy: "[[machine]]").count - 1 == 5)
        let (checked, checkOut, checkErr) = try await run(["check-config", "--config", config], in: dir, name: "check-config")
        #expect(checked == 0, "\(checkErr)")
        #expect(checkOut.contains("OK: 6 machines"), "\(checkOut)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("machines.d")) == ["50-edge.toml"])
    }

    @Test("an API failure (a wrong token) exits 2 without printing blocks or the token")
    func apiFailure() async throws {
        let dir = try TemporaryDirectory("akua-machines-import-401")
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        let simulator = try await SimulatorServer.start(
            options: SimulatorOptions(token: Self.token, machines: [SimulatedMachine(id: "mch_1")]), logger: logger)
        defer { Task { await simulator.shutdown() } }
        let tokenFile = try dir.write("token", "sk_akua_wrong_token_0000")
        let config = try dir.write("config.toml", "[api]\nbase_url = \"\(simulator.baseURL)\"\ntoken_file = \"\(tokenFile)\"\n")
        let (status, stdout, stderr) = try await run(["machines", "import", "--config", config], in: dir, name: "import-401")
        #expect(status == 2)
        #expect(stdout.isEmpty)
        #expect(stderr.contains("listing machines failed"), "\(stderr)")
        #expect(!stderr.contains("sk_akua_wrong_token_0000"))
    }

    @Test("filter values the contract forbids are rejected before any request", arguments: [
        ["--state", "active"], ["--state", "RUNNING"], ["--cluster", ""], ["--cluster", String(repeating: "c", count: 55)],
        ["--limit", "0"], ["--limit", "101"],
    ])
    func rejectsBadFilters(arguments: [String]) async throws {
        let dir = try TemporaryDirectory("akua-machines-import-bad")
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        let simulator = try await SimulatorServer.start(
            options: SimulatorOptions(token: Self.token, machines: [SimulatedMachine(id: "mch_1")]), logger: logger)
        defer { Task { await simulator.shutdown() } }
        let tokenFile = try dir.write("token", Self.token)
        let config = try dir.write("config.toml", "[api]\nbase_url = \"\(simulator.baseURL)\"\ntoken_file = \"\(tokenFile)\"\n")
        let probe = try await requestsTotal(simulator, dir)
        let before = try await requestsTotal(simulator, dir)
        let (status, stdout, stderr) = try await run(["machines", "import", "--config", config] + arguments, in: dir, name: "import-bad")
        #expect(status == 64, "\(stderr)")
        #expect(stdout.isEmpty)
        #expect(try await requestsTotal(simulator, dir) - before == before - probe, "no request reached the simulator")
    }
}
