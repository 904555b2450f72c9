import ArgumentParser
import DriftConfig
import DriftDaemon
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `drift-bench config-load`: loads a fleet config of N machines once, then `--reloads` more times (each new
/// config replacing the last, as a reload does, with the daemon's allocator settings and its `MemoryTrim`
/// after each load), and reports the time of a load and the resident set after the first reload against after the
/// last (a leak per parsed document shows as growth).
struct ConfigLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-load", abstract: "Time of a config load and resident memory across repeated loads (leak check).")

    @Option(help: "Machines in the config file.")
    var machines: Int = 100_000

    @Option(help: "Loads after the first.")
    var reloads: Int = 1000

    @Option(help: "Write the result as JSON to this file.")
    var out: String?

    struct Result: Codable {
        var machines: Int
        var fileBytes: Int
        var reloads: Int
        /// The first load (ms): read, parse, validate, secrets.
        var firstLoadMs: Double
        /// Median and highest of the reloads (ms).
        var reloadMedianMs: Double?
        var reloadMaxMs: Double?
        /// After the first load alone (one config resident).
        var rssAfterFirstLoadMiB: Double
        /// After the first reload: the baseline (a reload holds the running config and the new one at once).
        var rssAfterFirstMiB: Double
        var rssAfterLastMiB: Double
        var peakRSSMiB: Double
        /// (after the last reload − after the first reload) ÷ after the first reload, in percent.
        var growthPercent: Double
    }

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drift-bench-config-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = try FleetFiles(directory: directory, machines: machines)
        let path = try files.writeConfig(
            "config.toml", baseURL: "http://127.0.0.1:9", webhookURL: "http://127.0.0.1:9/hook", interval: "1h",
            catchUpWindow: "1s", maxInFlight: 32, statePath: directory + "/state.sqlite")
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let environment = ["PATH": "/usr/bin:/bin"]
        MemoryTrim.configureAllocator(environment: ProcessInfo.processInfo.environment)

        func load() throws -> LoadedConfig {
            // As the daemon does after each load: freed heap pages go back to the kernel.
            defer { MemoryTrim.now() }
            switch ConfigLoader.load(path: path, environment: environment) {
            case .success(let loaded):
                guard loaded.config.machines.count == machines else {
                    throw BenchError("loaded \(loaded.config.machines.count) machines, expected \(machines)")
                }
                return loaded
            case .failure(let error):
                throw BenchError("config rejected: \(error.diagnostics.prefix(3).map(\.description))")
            }
        }
        var t0 = Clocks.monotonicNs()
        var current = try load()
        let first = Clocks.seconds(from: t0, to: Clocks.monotonicNs()) * 1000
        let rssFirst = Self.memory().rss
        FileHandle.standardError.write(Data("first load of \(machines) machines (\(size) bytes): \(fmt(first, 1)) ms, RSS \(fmt(rssFirst, 1)) MiB\n".utf8))
        var times: [Double] = []
        var rssFirstReload = rssFirst
        for index in 0..<reloads {
            t0 = Clocks.monotonicNs()
            current = try load()
            times.append(Clocks.seconds(from: t0, to: Clocks.monotonicNs()) * 1000)
            if index == 0 { rssFirstReload = Self.memory().rss }
            if (index + 1) % max(1, reloads / 10) == 0 {
                FileHandle.standardError.write(Data("\(index + 1) reloads: RSS \(fmt(Self.memory().rss, 1)) MiB, last \(fmt(times.last, 1)) ms\n".utf8))
            }
        }
        blackHole(current)
        let after = Self.memory()
        times.sort()
        let result = Result(
            machines: machines, fileBytes: size, reloads: reloads, firstLoadMs: first,
            reloadMedianMs: times.isEmpty ? nil : times[times.count / 2], reloadMaxMs: times.last,
            rssAfterFirstLoadMiB: rssFirst, rssAfterFirstMiB: rssFirstReload, rssAfterLastMiB: after.rss, peakRSSMiB: after.peak,
            growthPercent: (after.rss - rssFirstReload) / rssFirstReload * 100)
        print("config load, \(machines) machines (\(size) bytes): first \(fmt(first, 1)) ms, reload median \(fmt(result.reloadMedianMs, 1)) ms; RSS after the first load \(fmt(rssFirst, 1)) MiB, after the first reload \(fmt(rssFirstReload, 1)) MiB, after \(reloads) reloads \(fmt(after.rss, 1)) MiB (\(fmt(result.growthPercent, 1))%, target ≤ +5%), peak \(fmt(after.peak, 1)) MiB")
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: out))
        }
    }

    /// This process's VmRSS and VmHWM in MiB.
    static func memory() -> (rss: Double, peak: Double) {
        let memory = ProcStats.memory(pid: getpid())
        return (Double(memory?.rssKiB ?? 0) / 1024, Double(memory?.peakKiB ?? 0) / 1024)
    }
}
