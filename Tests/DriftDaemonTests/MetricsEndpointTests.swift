import AkuaSimulator
import DriftTestSupport
import Foundation
import Logging
import Testing

/// What the metrics tests need: curl (an HTTP client independent of ours), promtool and Python's
/// prometheus_client (Prometheus' own and the reference parsers of the text format).
enum MetricsTools {
    static let python = "/usr/bin/python3"
    static var available: Bool {
        TestPreconditions.tool("curl") != nil && TestPreconditions.tool("promtool") != nil
            && TestPreconditions.run(python, ["-c", "import prometheus_client.parser"]).status == 0
    }
    static let reason: Comment = "needs curl, promtool (Debian package prometheus) and python3-prometheus-client (scripts/install-deps.sh)"
}

/// One parsed sample of a scrape.
struct ScrapedSample: Decodable {
    var name: String
    var labels: [String: String]
    var value: Double
    var type: String
}

/// `akua-driftd run` with `[metrics] listen` against the simulator and a webhook receiver that refuses
/// everything: the scrape is parsed by prometheus_client and linted by promtool, and its values are
/// checked against what the simulator and the receiver saw.
@Suite("[metrics] listener of akua-driftd run", .serialized)
struct MetricsEndpointTests {
    static let token = "sk_akua_metrics_2b7e9c41"

    /// A quiet simulator with one machine, `mch_a` ("a"), fixed in `state`.
    static func oneMachineSimulator(_ state: ReportStateName) async throws -> SimulatorServer {
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        return try await SimulatorServer.start(
            options: SimulatorOptions(token: token, machines: [SimulatedMachine(id: "mch_a", name: "a", scenario: .fixed(state))]),
            logger: logger)
    }
    static let secret = "whsec_" + Data("metrics-test-secret-0123456789ab".utf8).base64EncodedString()
    static let ttlSeconds: Int64 = 600

    @Test("a scrape matches what happened (checks, API requests, transitions, failed deliveries), readiness follows the scheduler",
          .enabled(if: MetricsTools.available, MetricsTools.reason), .timeLimit(.minutes(3)))
    func scrapeMatchesWhatHappened() async throws {
        let binary = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-driftd-metrics")
        let testStart = Date().timeIntervalSince1970
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        // One machine in sync and two drifted: three checks, three first observations.
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: Self.token,
            machines: [
                SimulatedMachine(id: "mch_a", name: "web-1", scenario: .fixed(.inSync)),
                SimulatedMachine(id: "mch_b", name: "web-2", scenario: .fixed(.drifted)),
                SimulatedMachine(id: "mch_c", name: "db-1", scenario: .fixed(.drifted)),
            ],
            ttlSeconds: Self.ttlSeconds), logger: logger)
        let receiver = try await TestWebhookReceiver.start(secret: Self.secret)
        receiver.respond(with: 400)  // a permanent failure: every delivery is given up
        defer { Task { await receiver.shutdown(); await simulator.shutdown() } }

        let port = try freeLoopbackPort()
        let stallFile = dir.file("stall")
        let tokenFile = try dir.write("token", Self.token)
        let secretFile = try dir.write("webhook.secret", Self.secret)
        let configText = """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            [schedule]
            interval = "1h"
            catch_up_window = "1s"
            [state]
            path = "\(dir.file("state.sqlite"))"
            [metrics]
            listen = "127.0.0.1:\(port)"
            [[webhook]]
            name = "ops"
            url = "\(receiver.url)"
            secret_file = "\(secretFile)"
            [[machine]]
            id = "mch_a"
            [[machine]]
            id = "mch_b"
            [[machine]]
            id = "mch_c"
            """
        let config = try dir.write("config.toml", configText)
        let daemon = try ChildProcess(
            binary, ["run", "--config", config, "--log-target", "stderr"],
            environment: ["PATH": "/usr/bin:/bin", "AKUA_DRIFTD_TEST_STALL_FILE": stallFile],
            logDirectory: dir.path, name: "akua-driftd")
        defer { daemon.signal(SIGKILL) }
        let base = "http://127.0.0.1:\(port)"

        // Three checks, and every delivery the receiver refused recorded as failed.
        try await eventually(timeout: .seconds(60), "three checks and the refused deliveries are over") {
            if !daemon.isRunning { throw HarnessError("akua-driftd exited: \(daemon.stderr)") }
            return simulator.control.stats().requestsByKey.values.reduce(0, +) == 3 && !receiver.attempts.isEmpty
        }
        var samples: [ScrapedSample] = []
        try await eventuallyAsync(timeout: .seconds(30), "the scrape shows every refused delivery as failed") {
            samples = try await scrape(base, directory: dir)
            return value(samples, "akua_driftd_webhook_deliveries_total", ["webhook": "ops", "outcome": "failed"]) == Double(receiver.attempts.count)
        }
        let stats = simulator.control.stats()
        let refused = Double(receiver.attempts.count)

        // N checks: the simulator saw 3 creates, each answered with a report.
        #expect(value(samples, "akua_driftd_checks_total", ["result": "ok"]) == 3)
        #expect(sum(samples, "akua_driftd_checks_total") == Double(stats.requestsByKey.values.reduce(0, +)))
        #expect(value(samples, "akua_driftd_check_duration_seconds_count") == 3)
        #expect(value(samples, "akua_driftd_scheduler_lag_seconds_count") == 3)
        #expect(sum(samples, "akua_driftd_api_requests_total") == Double(stats.requestsTotal))
        #expect(value(samples, "akua_driftd_api_requests_total", ["code": "201"]) == 3)
        #expect(value(samples, "akua_driftd_api_retry_after_seconds_total") == 0)
        // Every report lives ttl_seconds.
        #expect(value(samples, "akua_driftd_report_ttl_seconds_count") == 3)
        #expect(value(samples, "akua_driftd_report_ttl_seconds_sum") == Double(3 * Self.ttlSeconds))
        // M transitions: each machine's first observation.
        #expect(value(samples, "akua_driftd_transitions_total", ["from": "unknown", "to": "in_sync"]) == 1)
        #expect(value(samples, "akua_driftd_transitions_total", ["from": "unknown", "to": "drifted"]) == 2)
        #expect(sum(samples, "akua_driftd_transitions_total") == 3)
        // K failed deliveries: what the receiver refused, nothing delivered, nothing left pending.
        #expect(refused >= 1)
        #expect(sum(samples, "akua_driftd_webhook_deliveries_total") == refused)
        #expect(value(samples, "akua_driftd_webhook_outbox_pending", ["webhook": "ops"]) == 0)
        #expect(value(samples, "akua_driftd_webhook_outbox_oldest_pending_seconds", ["webhook": "ops"]) == 0)
        #expect(value(samples, "akua_driftd_webhook_endpoint_disabled", ["webhook": "ops"]) == 0)
        // The fleet.
        #expect(value(samples, "akua_driftd_machines", ["state": "in_sync"]) == 1)
        #expect(value(samples, "akua_driftd_machines", ["state": "drifted"]) == 2)
        #expect(value(samples, "akua_driftd_machines", ["state": "unknown"]) == 0)
        #expect(value(samples, "akua_driftd_machines_failing") == 0)
        #expect(value(samples, "akua_driftd_machines_stale") == 0)
        #expect(!samples.contains { $0.labels["machine"] != nil }, "no per-machine series unless per_machine = true")
        // Config, build and state file.
        #expect(value(samples, "akua_driftd_config_last_reload_successful") == 1)
        let loadedAt = value(samples, "akua_driftd_config_last_reload_timestamp_seconds") ?? 0
        #expect(loadedAt >= testStart.rounded(.down) && loadedAt <= Date().timeIntervalSince1970)
        let version = try await ChildProcess.run(binary, ["--version"], logDirectory: dir.path, name: "version")
        let versionLine = version.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(samples.contains { $0.name == "akua_driftd_build_info" && $0.labels["version"] == versionLine && $0.value == 1 })
        let fileBytes = fileSize(dir.file("state.sqlite")) + fileSize(dir.file("state.sqlite-wal"))
        let reportedBytes = value(samples, "akua_driftd_state_file_bytes") ?? 0
        #expect(reportedBytes > 0 && reportedBytes >= Double(fileBytes) / 2 && reportedBytes <= Double(fileBytes) * 2)
        // Process metrics against /proc/PID read here.
        let started = value(samples, "process_start_time_seconds") ?? 0
        #expect(started >= testStart - 2 && started <= Date().timeIntervalSince1970)
        let status = (try? String(contentsOfFile: "/proc/\(daemon.pid)/status", encoding: .utf8)) ?? ""
        let rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        let rss = value(samples, "process_resident_memory_bytes") ?? 0
        #expect(rss > rssKiB * 1024 / 2 && rss < rssKiB * 1024 * 2)
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd").count) ?? 0
        let reportedFds = value(samples, "process_open_fds") ?? 0
        #expect(reportedFds > 0 && abs(reportedFds - Double(fds)) <= 8)
        #expect((value(samples, "process_cpu_seconds_total") ?? -1) >= 0)

        // The dashboard and the alert rules name only metrics this scrape has.
        let names = Set(samples.map(\.name)).union(["up"])
        for (file, expressions) in try [("deploy/grafana/akua-driftd.json", dashboardExpressions()), ("deploy/prometheus/akua-driftd.rules.yml", ruleExpressions())] {
            #expect(!expressions.isEmpty)
            for expression in expressions {
                for metric in metricNames(in: expression) {
                    #expect(names.contains(metric), "\(file): \(metric) is not in a scrape of akua-driftd: \(expression)")
                }
            }
        }

        // Health, and the content type whatever the Accept header (swift-prometheus writes text 0.0.4 only).
        #expect(try await curl(base + "/-/healthy", directory: dir).code == 200)
        #expect(try await curl(base + "/-/ready", directory: dir).code == 200)
        let negotiated = try await curl(
            base + "/metrics", header: "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
            directory: dir)
        #expect(negotiated.code == 200 && negotiated.contentType == "text/plain; version=0.0.4; charset=utf-8")

        // A wedged scheduler (the test-only stall hook) makes /-/ready answer 503, and 200 once it resumes.
        FileManager.default.createFile(atPath: stallFile, contents: nil)
        try await eventuallyAsync(timeout: .seconds(20), "/-/ready answers 503 while the scheduler is stalled") {
            try await curl(base + "/-/ready", directory: dir).code == 503
        }
        #expect(try await curl(base + "/-/healthy", directory: dir).code == 200)
        try FileManager.default.removeItem(atPath: stallFile)
        try await eventuallyAsync(timeout: .seconds(20), "/-/ready answers 200 once the scheduler resumes") {
            try await curl(base + "/-/ready", directory: dir).code == 200
        }

        // A reload that moves the listener: the rest applies, the listener stays where it was (with a warning).
        let otherPort = try freeLoopbackPort()
        _ = try dir.write("config.toml", configText.replacingOccurrences(of: "127.0.0.1:\(port)", with: "127.0.0.1:\(otherPort)"))
        daemon.signal(SIGHUP)
        try await eventually(timeout: .seconds(20), "the reload warns that [metrics] changes at the next restart") {
            daemon.stderr.contains("[metrics] changed: it takes effect at the next restart")
        }
        samples = try await scrape(base, directory: dir)
        #expect(value(samples, "akua_driftd_config_last_reload_successful") == 1)
        let reloadedAt = try #require(value(samples, "akua_driftd_config_last_reload_timestamp_seconds"))
        #expect(reloadedAt >= loadedAt)
        #expect(try await curl("http://127.0.0.1:\(otherPort)/-/healthy", directory: dir).code == 0, "nothing listens on the new port")

        // A rejected reload: config_last_reload_successful drops to 0, the timestamp stays.
        _ = try dir.write("config.toml", configText + "\n[schedule]\n")
        daemon.signal(SIGHUP)
        try await eventuallyAsync(timeout: .seconds(20), "the scrape shows the rejected reload") {
            samples = try await scrape(base, directory: dir)
            return value(samples, "akua_driftd_config_last_reload_successful") == 0
        }
        #expect(value(samples, "akua_driftd_config_last_reload_timestamp_seconds") == reloadedAt)
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(20)) == 0)
    }

    @Test("a listen address that cannot be bound stops the start with the reason",
          .enabled(if: MetricsTools.available, MetricsTools.reason), .timeLimit(.minutes(1)))
    func bindFailureStopsTheStart() async throws {
        let dir = try TemporaryDirectory("akua-driftd-metrics")
        let simulator = try await Self.oneMachineSimulator(.inSync)
        defer { Task { await simulator.shutdown() } }
        let tokenFile = try dir.write("token", Self.token)
        // The simulator's own port is taken.
        let taken = try #require(URL(string: simulator.baseURL)?.port)
        let config = try dir.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            [state]
            path = "\(dir.file("state.sqlite"))"
            [metrics]
            listen = "127.0.0.1:\(taken)"
            [[machine]]
            id = "mch_a"
            """)
        let result = try await ChildProcess.run(
            try PackagePaths.binary("akua-driftd"), ["run", "--config", config, "--log-target", "stderr"],
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: dir.path, name: "akua-driftd", timeout: .seconds(30))
        #expect(result.status != 0)
        #expect(result.stderr.contains("[metrics] listen = \"127.0.0.1:\(taken)\": cannot listen"), "\(result.stderr)")
    }

    @Test("listen on a unix socket path: /metrics and /-/ready answer over it, a leftover socket file is replaced",
          .enabled(if: MetricsTools.available, MetricsTools.reason), .timeLimit(.minutes(1)))
    func unixSocket() async throws {
        let dir = try TemporaryDirectory("akua-driftd-metrics")
        let simulator = try await Self.oneMachineSimulator(.drifted)
        defer { Task { await simulator.shutdown() } }
        let socket = dir.file("metrics.sock")
        // A leftover socket file, as a killed daemon leaves it.
        let leftover = try await ChildProcess.run(
            MetricsTools.python, ["-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", socket],
            logDirectory: dir.path, name: "leftover")
        #expect(leftover.status == 0 && FileManager.default.fileExists(atPath: socket))
        let tokenFile = try dir.write("token", Self.token)
        let config = try dir.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            [schedule]
            catch_up_window = "1s"
            [state]
            path = "\(dir.file("state.sqlite"))"
            [metrics]
            listen = "\(socket)"
            [[machine]]
            id = "mch_a"
            """)
        let daemon = try ChildProcess(
            try PackagePaths.binary("akua-driftd"), ["run", "--config", config, "--log-target", "stderr"],
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: dir.path, name: "akua-driftd")
        defer { daemon.signal(SIGKILL) }
        func get(_ path: String) async throws -> (status: Int32, stdout: String) {
            let result = try await ChildProcess.run(
                "/usr/bin/curl", ["-s", "--max-time", "5", "--unix-socket", socket, "-w", "\n%{http_code}", "http://localhost" + path],
                logDirectory: dir.path, name: "curl")
            return (result.status, result.stdout)
        }
        try await eventuallyAsync(timeout: .seconds(30), "GET /metrics over the unix socket shows the drifted machine") {
            if !daemon.isRunning { throw HarnessError("akua-driftd exited: \(daemon.stderr)") }
            let response = try await get("/metrics")
            return response.stdout.hasSuffix("\n200") && response.stdout.contains("akua_driftd_machines{state=\"drifted\"} 1")
        }
        #expect(try await get("/-/ready").stdout.hasSuffix("\n200"))
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit(timeout: .seconds(20)) == 0)
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket file is removed at exit")
    }

    // MARK: Helpers

    /// GET `url` with curl: the status code, the body and the content type.
    private func curl(_ url: String, header: String? = nil, directory: TemporaryDirectory) async throws -> (code: Int, body: String, contentType: String) {
        let body = directory.file("body-\(UUID().uuidString)")
        var arguments = ["-s", "-o", body, "-w", "%{http_code} %{content_type}", "--max-time", "10"]
        if let header { arguments += ["-H", header] }
        let result = try await ChildProcess.run("/usr/bin/curl", arguments + [url], logDirectory: directory.path, name: "curl")
        let parts = result.stdout.split(separator: " ", maxSplits: 1).map(String.init)
        let text = (try? String(contentsOfFile: body, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: body)
        return (Int(parts.first ?? "") ?? 0, text, parts.count > 1 ? parts[1] : "")
    }

    /// Scrapes `/metrics`, lints it with `promtool check metrics` and parses it with prometheus_client.
    private func scrape(_ base: String, directory: TemporaryDirectory) async throws -> [ScrapedSample] {
        let response = try await curl(base + "/metrics", directory: directory)
        guard response.code == 200 else { throw HarnessError("GET /metrics answered \(response.code)") }
        let file = try directory.write("scrape.txt", response.body)
        let lint = try await ChildProcess.run("/bin/sh", ["-c", "promtool check metrics < \"$0\"", file], logDirectory: directory.path, name: "promtool")
        #expect(lint.status == 0, "promtool check metrics: \(lint.stdout) \(lint.stderr)")
        let parsed = try await ChildProcess.run(
            MetricsTools.python, [PackagePaths.root + "/Tests/Support/metrics-parse.py", file], logDirectory: directory.path, name: "parse")
        guard parsed.status == 0 else { throw HarnessError("prometheus_client cannot parse the scrape: \(parsed.stderr)") }
        return try parsed.stdout.split(separator: "\n").map { try JSONDecoder().decode(ScrapedSample.self, from: Data($0.utf8)) }
    }

    private func value(_ samples: [ScrapedSample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    private func sum(_ samples: [ScrapedSample], _ name: String) -> Double {
        samples.filter { $0.name == name }.map(\.value).reduce(0, +)
    }

    private func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
    }

    /// Every `expr` of the dashboard's panels and every query of its variables.
    private func dashboardExpressions() throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: PackagePaths.root + "/deploy/grafana/akua-driftd.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var expressions: [String] = []
        for panel in root["panels"] as? [[String: Any]] ?? [] {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                if let expr = target["expr"] as? String { expressions.append(expr) }
            }
        }
        let variables = (root["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for variable in variables {
            if let definition = variable["definition"] as? String { expressions.append(definition) }
        }
        return expressions
    }

    /// Every `expr:` of the alert rules.
    private func ruleExpressions() throws -> [String] {
        let text = try String(contentsOfFile: PackagePaths.root + "/deploy/prometheus/akua-driftd.rules.yml", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("expr:") ? String(trimmed.dropFirst(5)) : nil
        }
    }

    /// The metric names an expression reads: our prefix, the process metrics and `up`.
    private func metricNames(in expression: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "\\b(akua_driftd_[a-z_]+|process_[a-z_]+|up)\\b(?=\\s*[{\\[)]|\\s*$|\\s*[,>=<!])")
        let range = NSRange(expression.startIndex..., in: expression)
        return pattern.matches(in: expression, range: range).compactMap { Range($0.range(at: 1), in: expression).map { String(expression[$0]) } }
    }
}

/// Polls an async `condition` every 100 ms until it holds, failing with `what` after `timeout`.
private func eventuallyAsync(timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try await condition() { return }
        if clock.now >= deadline {
            Issue.record("timed out after \(timeout) waiting until \(what)")
            throw HarnessError("timed out waiting until \(what)")
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}
