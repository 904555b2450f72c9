import ArgumentParser
import Foundation

/// `drift-bench large` (`make bench-large`): one very large fleet, 1,000,000 machines by default:
/// check-config, start to READY=1 with an empty and with an existing state file, a one-machine reload,
/// and the peak resident set of the daemon over the whole run.
struct LargeFleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "large", abstract: "Start-up, reload and peak memory of one very large fleet (make bench-large).")

    @Option(help: "Machines.")
    var machines: Int = 1_000_000

    @Option(help: "The akua-driftd binary.")
    var driftd: String = ".build-release/release/akua-driftd"

    @Option(help: "The akua-sim binary.")
    var sim: String = ".build-release/release/akua-sim"

    @Option(name: .customLong("run-seconds"), help: "How long the cold-started daemon checks before the reload.")
    var runSeconds: Double = 30

    @Option(help: "Write the result as JSON to this file.")
    var out: String = "bench/results/large.json"

    /// Targets of issue 14 for 1,000,000 machines.
    static let readySeconds = 10.0
    static let peakMiB = 1024.0

    func run() async throws {
        let tools = BenchTools(
            driftd: BenchRunCommand.absolute(driftd), sim: BenchRunCommand.absolute(sim), bench: BenchRunCommand.selfPath(),
            wrkScript: "")
        for path in [tools.driftd, tools.sim] where access(path, X_OK) != 0 {
            throw ValidationError("\(path) is not an executable (build it first)")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("drift-bench-large-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let receiver = try await BenchWebhookReceiver.start()
        let label = BenchReport.count(machines)
        let bench = FleetBench(
            plan: FleetPlan(machines: machines), tools: tools, directory: work, receiver: receiver,
            log: { BenchRunCommand.progress("[\(label)] " + $0) })
        let result: LargeFleetResult
        do {
            result = try await bench.runLarge(runSeconds: runSeconds)
        } catch {
            await receiver.shutdown()
            print("work directory kept for its logs: \(work)")
            throw error
        }
        await receiver.shutdown()
        try? FileManager.default.removeItem(atPath: work)

        func mark(_ ok: Bool?) -> String { ok.map { $0 ? "✓" : "✗" } ?? "?" }
        let rows: [(String, String, String)] = [
            ("config file (MB)", fmt(Double(result.configBytes) / 1e6, 1), ""),
            ("check-config, whole process (s)", fmt(result.checkConfigSeconds, 2), ""),
            ("start to READY=1, empty state file (s)", fmt(result.readyColdSeconds, 2),
             "≤ 10 s " + mark(result.readyColdSeconds.map { $0 <= Self.readySeconds })),
            ("restart to READY=1, existing state (s)", fmt(result.readyRestartSeconds, 2),
             "≤ 10 s " + mark(result.readyRestartSeconds.map { $0 <= Self.readySeconds })),
            ("SIGHUP reload, 1 machine changed (s)", fmt(result.reloadSighupToReadySeconds, 2),
             "≤ 10 s " + mark(result.reloadSighupToReadySeconds.map { $0 <= Self.readySeconds })),
            ("checks in the first \(Int(runSeconds)) s after the cold start", result.firstRoundChecks.map(String.init) ?? "—", ""),
            ("RSS after the cold start's first \(Int(runSeconds)) s (MiB)", fmt(result.rssAfterColdStartMiB, 1), ""),
            ("RSS after the restart (MiB)", fmt(result.rssAfterRestartMiB, 1), ""),
            ("peak RSS over the whole run, VmHWM (MiB)", fmt(result.rssPeakMiB, 1),
             "≤ 1024 MiB " + mark(result.rssPeakMiB.map { $0 <= Self.peakMiB })),
            ("whole benchmark (s)", fmt(result.totalSeconds, 0), ""),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        print("\nakua-driftd, \(label) machines (\(BenchReport.Host.current().cores) cores, release binaries):\n")
        print("| " + "figure".padding(toLength: width, withPad: " ", startingAt: 0) + " | value | target |")
        print("|" + String(repeating: "-", count: width + 2) + "|------:|--------|")
        for (name, value, target) in rows {
            print("| " + name.padding(toLength: width, withPad: " ", startingAt: 0) + " | \(value) | \(target) |")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try encoder.encode(result).write(to: URL(fileURLWithPath: out))
        print("\nJSON: \(out)")
    }
}
