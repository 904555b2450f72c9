import ArgumentParser
import DriftCore
import Foundation

/// `drift-bench run`: the fleet benchmark (`make bench`) or its smoke run (`make bench-smoke`).
struct BenchRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run akua-sim and akua-driftd on loopback for each fleet size and print one table.")

    @Option(help: "Comma list of fleet sizes.")
    var fleets: String = "1000,10000,100000"

    @Option(help: "The akua-driftd binary.")
    var driftd: String = ".build-release/release/akua-driftd"

    @Option(help: "The akua-sim binary.")
    var sim: String = ".build-release/release/akua-sim"

    @Option(name: .customLong("wrk-script"), help: "wrk Lua script for the ceiling.")
    var wrkScript: String = "bench/wrk-create.lua"

    @Option(help: "Directory for latest.json and latest.md.")
    var out: String = "bench/results"

    @Option(help: "Label of the binaries in the table header (release, debug).")
    var binaries: String = "release"

    @Option(name: .customLong("idle-seconds"), help: "Length of the idle window.")
    var idleSeconds: Double?

    @Flag(help: "Short phases; fails unless every figure is produced and within 2× of its target (make bench-smoke).")
    var smoke = false

    @Option(name: .customLong("profile-dir"), help: "Profile the idle daemon with perf into flame graphs here (idle-N.svg).")
    var profileDir: String?

    @Flag(help: "Keep the work directory (configs, state files, logs).")
    var keep = false

    func run() async throws {
        let sizes = try fleets.split(separator: ",").map { text -> Int in
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 100 else {
                throw ValidationError("--fleets: sizes must be integers >= 100")
            }
            return value
        }
        let tools = BenchTools(
            driftd: Self.absolute(driftd), sim: Self.absolute(sim), bench: Self.selfPath(), wrkScript: Self.absolute(wrkScript))
        for path in [tools.driftd, tools.sim] where access(path, X_OK) != 0 {
            throw ValidationError("\(path) is not an executable (build it first)")
        }
        guard access(tools.wrkScript, R_OK) == 0 else { throw ValidationError("\(tools.wrkScript) is missing") }
        guard Wrk.executable != nil else { throw ValidationError("wrk is not installed (apt-get install wrk)") }

        let host = BenchReport.Host.current()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("drift-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let receiver = try await BenchWebhookReceiver.start()
        var results: [FleetResult] = []
        var failure: (any Error)?
        for size in sizes {
            var plan = FleetPlan(machines: size)
            if smoke {
                plan.idleSeconds = 5
                plan.settleSeconds = 1
                plan.saturationWarmup = 1
                plan.saturationSeconds = 3
                plan.wrkSeconds = 2
                plan.wrkThreads = [1]
                plan.lagWarmup = 2
                plan.lagSeconds = 3
                plan.lagRate = 250
                plan.curlLoopMachines = 20
            }
            if let idleSeconds { plan.idleSeconds = idleSeconds }
            plan.profileDirectory = profileDir.map(Self.absolute)
            let label = BenchReport.count(size)
            Self.progress("== \(label) machines")
            let bench = FleetBench(
                plan: plan, tools: tools, directory: work + "/fleet-\(size)", receiver: receiver,
                log: { Self.progress("[\(label)] " + $0) })
            do {
                results.append(try await bench.run())
            } catch {
                failure = error
                Self.progress("[\(label)] FAILED: \(error)")
                break
            }
        }
        await receiver.shutdown()

        var finalHost = host
        finalHost.loadAverage.append(BenchReport.Host.loadAverage())
        var report = BenchReport(
            date: Self.isoDate(), host: finalHost, command: CommandLine.arguments.joined(separator: " "),
            binaries: binaries, fleets: results)
        report.evaluate()
        let table = report.table()
        print(table)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try report.json().write(to: URL(fileURLWithPath: out + "/latest.json"))
        try Data((table + "\n").utf8).write(to: URL(fileURLWithPath: out + "/latest.md"))
        print("\nJSON: \(out)/latest.json")

        if let failure {
            print("work directory kept for its logs: \(work)")
            throw failure
        }
        if smoke {
            let problems = results.flatMap(Self.smokeProblems)
            guard problems.isEmpty else {
                print("bench-smoke: FAILED\n  " + problems.joined(separator: "\n  ") + "\nwork directory kept: \(work)")
                throw ExitCode(1)
            }
            print("bench-smoke: every figure produced and within \(fmt(Self.smokeFactor, 0))× of its target")
        }
        if !keep { try? FileManager.default.removeItem(atPath: work) } else { print("work directory: \(work)") }
    }

    /// How far off its target (README, Performance) a figure of the smoke run may be: debug binaries on
    /// two shared cores, so a factor, but a real bound.
    static let smokeFactor = 2.0

    /// Figures with a target more than `smokeFactor` off it (or missing), then figures without a target
    /// that are missing or physically inconsistent.
    static func smokeProblems(_ r: FleetResult) -> [String] {
        var problems = BenchTargets.misses(r, factor: smokeFactor).map { "\(count(r.machines)) machines: \($0)" }
        func expect(_ ok: Bool?, _ what: String) {
            if ok != true { problems.append("\(count(r.machines)) machines: \(what)") }
        }
        expect(r.readyColdSeconds.map { $0 > 0 }, "start to READY=1 not positive")
        expect(r.readyRestartSeconds.map { $0 > 0 }, "restart to READY=1 not positive")
        expect(r.rssSteadyMiB.map { $0 > 1 }, "steady RSS missing")
        expect(r.rssSaturationMiB.map { $0 > 1 }, "RSS during saturation missing")
        expect(r.rssPeakMiB.map { peak in [r.rssSteadyMiB, r.rssSaturationMiB, r.rssAfterFirstRoundMiB].allSatisfy { ($0 ?? 0) <= peak + 0.5 } },
               "peak RSS below a sampled RSS")
        expect(r.rssPerMachineKiB.map { $0 > 0 }, "RSS per machine missing")
        expect(r.firstRoundChecksPerSecond.map { $0 > 0 }, "first round rate missing")
        expect(r.saturationChecksPerSecond.map { $0 > 0 }, "saturation checks/s missing")
        expect(r.wrkCeiling.map { $0 > 0 }, "wrk ceiling missing")
        expect(r.ratio.map { $0 > 0 && $0 < 5 }, "ratio missing or absurd")
        expect(r.lagMs.map { $0.count >= 100 && $0.p50 >= 0 && $0.p50 <= $0.p99 && $0.p99 <= $0.max }, "lag percentiles missing or inconsistent")
        let offered = r.lagIntervalSeconds.map { Double(r.machines) / $0 }
        expect(r.lagChecksPerSecond.flatMap { rate in offered.map { rate > 0.8 * $0 && rate < 1.2 * $0 } },
               "the lag probe did not keep up with the \(fmt(offered, 0)) checks/s it offered (\(fmt(r.lagChecksPerSecond, 0)))")
        expect(r.deliveryMs.map { $0.count >= 1 && $0.p50 >= -1 && $0.p50 <= $0.p99 }, "delivery latency missing or inconsistent")
        expect(r.idle.map { $0.cpuSecondsPerMinute >= 0 && $0.contextSwitchesPerMinute > 0 && $0.checksPerMinute >= 0 }, "idle figures missing")
        expect(r.clientProbe.map { $0.akuaClientPerSecond > 0 && $0.bareClientPerSecond > 0 && $0.errors == 0 }, "client probe missing or failing")
        expect(r.reloadSighupToReadySeconds.map { $0 > 0 }, "reload time not positive")
        return problems
    }

    static func count(_ value: Int) -> String { BenchReport.count(value) }

    static func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func selfPath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? absolute(CommandLine.arguments[0])
    }

    static func isoDate() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
