#if canImport(Glibc)
import Glibc
#endif

/// Context switches of a running process, every thread (threads created during the window included,
/// threads that exit kept), from `perf record -e context-switches -c 1` when the kernel lets us: every
/// switch with its time, so that switches less than `burstGap` apart count as one process wake-up.
enum PerfStat {
    struct Counts: Sendable, Codable {
        /// Every thread switch (a thread going to sleep or being preempted).
        var contextSwitches: Int
        /// Bursts of activity: the process waking up from idle.
        var wakeups: Int
    }

    static let burstGap = 0.001

    /// Records `pid` for `seconds`; nil when perf is missing or not permitted.
    static func measure(pid: Int32, seconds: Double, workDirectory: String) async -> Counts? {
        guard let perf = (["/usr/bin/perf", "/usr/local/bin/perf"] as [String]).first(where: { access($0, X_OK) == 0 }) else { return nil }
        let data = workDirectory + "/perf-\(pid).data"
        let environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]
        guard let record = try? ChildProcess(
            perf, ["record", "-q", "-e", "context-switches", "-c", "1", "-p", String(pid), "-o", data, "--", "sleep", String(format: "%.3f", seconds)],
            environment: environment, logDirectory: workDirectory, name: "perf-record-\(pid)")
        else { return nil }
        guard let exit = await record.waitForExit(timeout: seconds + 30), exit.status == 0 else {
            record.kill9()
            return nil
        }
        guard let script = try? ChildProcess(perf, ["script", "-i", data, "-F", "time"], environment: environment, logDirectory: workDirectory, name: "perf-script-\(pid)"),
              let done = await script.waitForExit(timeout: 60), done.status == 0
        else { return nil }
        var times: [Double] = []
        for line in ChildProcess.read(script.stdoutPath).split(separator: "\n") {
            if let value = Double(line.trimmingPrefixSpaces().prefix { $0 != ":" }) { times.append(value) }
        }
        unlink(data)
        guard !times.isEmpty else { return Counts(contextSwitches: 0, wakeups: 0) }
        times.sort()
        var bursts = 1
        for index in 1..<times.count where times[index] - times[index - 1] > burstGap { bursts += 1 }
        return Counts(contextSwitches: times.count, wakeups: bursts)
    }
}

extension Substring {
    fileprivate func trimmingPrefixSpaces() -> Substring { drop { $0 == " " } }
}

/// A CPU profile of a running process: `perf record -g` at `frequency` Hz for `seconds`, folded and drawn
/// by bench/flamegraph.py into OUT.folded and OUT.svg, with `perf report --stdio` text beside (OUT.txt).
enum PerfProfile {
    /// Whether it worked (perf or python3 missing, or perf not permitted: false).
    static func record(pid: Int32, seconds: Double, frequency: Int = 999, out: String, title: String, workDirectory: String) async -> Bool {
        guard let perf = (["/usr/bin/perf", "/usr/local/bin/perf"] as [String]).first(where: { access($0, X_OK) == 0 }) else { return false }
        let data = workDirectory + "/profile-\(pid).data"
        let environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]
        guard let record = try? ChildProcess(
            perf, ["record", "-q", "-F", String(frequency), "-g", "-p", String(pid), "-o", data, "--", "sleep", String(format: "%.3f", seconds)],
            environment: environment, logDirectory: workDirectory, name: "perf-profile-\(pid)"),
            let exit = await record.waitForExit(timeout: seconds + 60), exit.status == 0
        else { return false }
        defer { unlink(data) }
        let script = out + ".perf-script.txt"
        guard let dump = try? ChildProcess(
            "/bin/sh", ["-c", "\"$0\" script -i \"$1\" > \"$2\" && \"$0\" report -i \"$1\" --stdio --no-children --percent-limit 0.5 -g none > \"$3\" 2>/dev/null; python3 \"$4\" --title \"$5\" \"$6\" < \"$2\"; rm -f \"$2\"",
                         perf, data, script, out + ".txt", flameScript, title, out],
            environment: environment, logDirectory: workDirectory, name: "perf-fold-\(pid)"),
            let folded = await dump.waitForExit(timeout: 600), folded.status == 0
        else { return false }
        return true
    }

    /// bench/flamegraph.py next to the working directory (the Makefile runs from the repository root).
    static var flameScript: String { BenchRunCommand.absolute("bench/flamegraph.py") }
}
