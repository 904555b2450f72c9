/// `perf stat` on a running process, when the kernel lets us: counts the context switches of every
/// thread (inherited by threads created during the window, kept for threads that exit), which /proc
/// sums cannot do.
enum PerfStat {
    struct Counts: Sendable, Codable {
        var contextSwitches: Int
        var taskClockMs: Double
    }

    /// Measures `pid` for `seconds`; nil when perf is missing or not permitted.
    static func measure(pid: Int32, seconds: Double, workDirectory: String) async -> Counts? {
        guard let perf = (["/usr/bin/perf", "/usr/local/bin/perf"] as [String]).first(where: { access($0, X_OK) == 0 }) else { return nil }
        let child: ChildProcess
        do {
            child = try ChildProcess(
                perf, ["stat", "-x", ",", "-e", "context-switches,task-clock", "-p", String(pid), "--", "sleep", String(format: "%.3f", seconds)],
                environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"], logDirectory: workDirectory, name: "perf-stat-\(pid)")
        } catch {
            return nil
        }
        guard let exit = await child.waitForExit(timeout: seconds + 10), exit.status == 0 else {
            child.kill9()
            return nil
        }
        var switches: Int?
        var clock: Double?
        for line in ChildProcess.read(child.stderrPath).split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count >= 3 else { continue }
            if fields[2].hasPrefix("context-switches") { switches = Int(fields[0]) }
            if fields[2].hasPrefix("task-clock") { clock = Double(fields[0]) }
        }
        guard let switches, let clock else { return nil }
        return Counts(contextSwitches: switches, taskClockMs: clock)
    }
}

#if canImport(Glibc)
import Glibc
import Foundation
#endif
