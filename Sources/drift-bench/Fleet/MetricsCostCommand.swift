import ArgumentParser
import AsyncHTTPClient
import DriftSystemd
import Foundation
import NIOCore

/// `drift-bench metrics-cost`: what `[metrics] listen` costs. Two daemons watch the same fleet of one akua-sim
/// side by side, one with metrics off and one with them on (scraped every `scrape-every` seconds, as
/// Prometheus would). Their schedules are identical (slots and idempotency keys depend only on the machine
/// id and the interval), so they make the same checks, and whatever else runs on the machine loads both
/// alike. Each starts from an empty state file with the first round spread over the whole interval (a
/// steady rate, no burst); after `warmup` seconds, `window` seconds are measured. Compared: the peak resident
/// set (VmHWM) and the CPU seconds over the window (the same checks, so their ratio is the change in CPU
/// per check), over `repeats` rounds with the start order alternating.
struct MetricsCostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics-cost", abstract: "RSS and CPU per check with [metrics] off and on (used by `make bench`).")

    @Option var machines: Int = 100_000
    @Option(help: "Check interval of every machine (100,000 machines at 400s: 250 checks/s per daemon).") var interval: String = "400s"
    @Option var warmup: Double = 20
    @Option var window: Double = 60
    @Option(name: .customLong("scrape-every")) var scrapeEvery: Double = 5
    @Option(help: "Rounds of the side-by-side pair (the start order alternates).")
    var repeats: Int = 2
    @Option var driftd: String
    @Option var sim: String
    @Option var out: String

    struct Run: Codable {
        var metrics: Bool
        var peakRSSMiB: Double
        var highestRSSInWindowMiB: Double
        var checks: Int
        var cpuSeconds: Double
        var cpuMsPerCheck: Double
        var scrapes: Int
        var scrapeBytes: Int
    }

    struct Result: Codable {
        var machines: Int
        var interval: String
        var windowSeconds: Double
        var runs: [Run]
        var rssGrowthMiB: Double
        var cpuPerCheckChangePercent: Double
    }

    func run() async throws {
        let directory = NSTemporaryDirectory() + "akua-driftd-metrics-cost-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try FleetFiles(directory: directory, machines: machines)
        let receiver = try await BenchWebhookReceiver.start()
        let notify = try NotifyListener(path: directory + "/notify.sock")
        let simulator = try ChildProcess(
            sim,
            ["--listen", "127.0.0.1:0", "--token", files.token, "--machine-count", String(files.fixedMachines),
             "--scenario", files.scenarioPath, "--ttl", "2h", "--seed", "1"],
            environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory, name: "akua-sim")
        defer {
            simulator.kill9()
            notify.close()
        }
        var baseURL = ""
        let deadline = Clocks.monotonicNs() + 120_000_000_000
        while baseURL.isEmpty, Clocks.monotonicNs() < deadline, simulator.isRunning {
            if let line = simulator.stdout.split(separator: "\n").first(where: { $0.hasPrefix("akua-sim listening on ") }) {
                baseURL = String(line.dropFirst("akua-sim listening on ".count))
            }
            await Clocks.sleep(seconds: 0.02)
        }
        guard !baseURL.isEmpty else { throw BenchError("akua-sim did not start: \(simulator.stderrTail())") }
        let admin = SimAdmin(adminURL: String(baseURL.dropLast(3)) + "/_sim")

        var runs: [Run] = []
        for round in 0..<max(1, repeats) {
            // Both daemons at once, on identical schedules (slots and keys depend only on the machine id and
            // the interval), so load from elsewhere on the machine hits both alike. Start order alternates.
            var daemons: [(metrics: Bool, process: ChildProcess, port: Int)] = []
            let cursor = notify.count
            for metrics in round % 2 == 0 ? [false, true] : [true, false] {
                let name = "config-\(metrics ? "on" : "off").toml"
                var config = try files.writeConfig(
                    name, baseURL: baseURL, webhookURL: receiver.url, interval: interval, catchUpWindow: interval,
                    maxInFlight: 32, statePath: directory + "/state-\(round)-\(metrics ? "on" : "off").sqlite")
                let port = metrics ? try freePort() : 0
                if metrics {
                    // [metrics] goes before the first [[webhook]]/[[machine]] array table.
                    let text = try String(contentsOfFile: config, encoding: .utf8)
                        .replacingOccurrences(of: "[[webhook]]", with: "[metrics]\nlisten = \"127.0.0.1:\(port)\"\n\n[[webhook]]")
                    config = try files.write(name, text, mode: 0o644)
                }
                let process = try ChildProcess(
                    driftd, ["run", "--config", config, "--log-target", "stderr"],
                    environment: ["PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify.path], logDirectory: directory,
                    name: "akua-driftd-metrics-\(metrics ? "on" : "off")-\(round)")
                daemons.append((metrics, process, port))
            }
            defer { for daemon in daemons { daemon.process.kill9() } }
            var readyFrom = cursor
            for _ in daemons {
                guard let ready = await notify.next(after: readyFrom, timeout: 120, where: { $0.has("READY=1") }) else {
                    throw BenchError("akua-driftd sent no READY=1: \(daemons.map { $0.process.stderrTail() })")
                }
                readyFrom = ready.index + 1
            }
            let port = daemons.first { $0.metrics }?.port ?? 0
            var scrapes = 0
            var scrapeBytes = 0
            var lastScrape: UInt64 = 0
            func scrapeIfDue() async {
                guard Clocks.seconds(from: lastScrape, to: Clocks.monotonicNs()) >= scrapeEvery else { return }
                lastScrape = Clocks.monotonicNs()
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics")
                request.method = .GET
                if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)),
                   let body = try? await response.body.collect(upTo: 64 << 20) {
                    scrapes += 1
                    scrapeBytes = body.readableBytes
                }
            }
            let warmupEnd = Clocks.monotonicNs() + UInt64(warmup * 1e9)
            while Clocks.monotonicNs() < warmupEnd {
                await scrapeIfDue()
                await Clocks.sleep(seconds: 0.2)
            }
            let s0 = try await admin.stats()
            let cpu0 = daemons.map { ProcStats.cpuSeconds(pid: $0.process.pid) ?? 0 }
            let windowEnd = Clocks.monotonicNs() + UInt64(window * 1e9)
            var highestKiB = daemons.map { _ in 0 }
            while Clocks.monotonicNs() < windowEnd {
                await scrapeIfDue()
                for (index, daemon) in daemons.enumerated() {
                    if let memory = ProcStats.memory(pid: daemon.process.pid) { highestKiB[index] = max(highestKiB[index], memory.rssKiB) }
                }
                await Clocks.sleep(seconds: 0.2)
            }
            let cpu1 = daemons.map { ProcStats.cpuSeconds(pid: $0.process.pid) ?? 0 }
            let s1 = try await admin.stats()
            // Both daemons make the same requests (the same keys at the same slots): half each.
            let checks = (s1.requestsTotal - s0.requestsTotal) / 2
            for (index, daemon) in daemons.enumerated() {
                let peakKiB = ProcStats.memory(pid: daemon.process.pid)?.peakKiB ?? 0
                guard daemon.process.isRunning else { throw BenchError("akua-driftd died: \(daemon.process.stderrTail())") }
                let exit = await daemon.process.stop()
                let cpu = cpu1[index] - cpu0[index]
                let run = Run(
                    metrics: daemon.metrics, peakRSSMiB: Double(max(peakKiB, exit?.maxRSSKiB ?? 0)) / 1024,
                    highestRSSInWindowMiB: Double(highestKiB[index]) / 1024, checks: checks, cpuSeconds: cpu,
                    cpuMsPerCheck: checks > 0 ? cpu * 1000 / Double(checks) : 0,
                    scrapes: daemon.metrics ? scrapes : 0, scrapeBytes: daemon.metrics ? scrapeBytes : 0)
                print("round \(round + 1), metrics \(daemon.metrics ? "on " : "off"): peak RSS \(fmt(run.peakRSSMiB, 1)) MiB, highest RSS in window \(fmt(run.highestRSSInWindowMiB, 1)) MiB, ~\(checks) checks in \(Int(window)) s, CPU \(fmt(cpu, 2)) s = \(fmt(run.cpuMsPerCheck, 4)) ms per check\(daemon.metrics ? ", \(scrapes) scrapes of \(scrapeBytes) bytes" : "")")
                runs.append(run)
            }
        }
        await receiver.shutdown()
        func peak(_ on: Bool) -> Double { runs.filter { $0.metrics == on }.map(\.peakRSSMiB).max() ?? 0 }
        func cpu(_ on: Bool) -> Double { runs.filter { $0.metrics == on }.map(\.cpuSeconds).reduce(0, +) }
        let result = Result(
            machines: machines, interval: interval, windowSeconds: window, runs: runs,
            rssGrowthMiB: peak(true) - peak(false),
            cpuPerCheckChangePercent: cpu(false) > 0 ? (cpu(true) / cpu(false) - 1) * 100 : 0)
        print("metrics on vs off at \(machines) machines, side by side (highest peak; CPU over all rounds, same checks): peak RSS \(result.rssGrowthMiB >= 0 ? "+" : "")\(fmt(result.rssGrowthMiB, 1)) MiB (target ≤ +10 MiB), CPU per check \(result.cpuPerCheckChangePercent >= 0 ? "+" : "")\(fmt(result.cpuPerCheckChangePercent, 1))% (target ≤ +5%)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: URL(fileURLWithPath: out))
    }

    /// A loopback TCP port that was free a moment ago.
    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
