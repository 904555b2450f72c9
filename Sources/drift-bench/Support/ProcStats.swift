#if canImport(Glibc)
import Glibc
#endif

/// Readings of a running process from /proc: resident memory, CPU time, context switches of every thread.
enum ProcStats {
    struct Memory: Sendable { var rssKiB: Int; var peakKiB: Int }

    static func memory(pid: pid_t) -> Memory? {
        let text = ChildProcess.read("/proc/\(pid)/status")
        guard let rss = field(text, "VmRSS:"), let peak = field(text, "VmHWM:") else { return nil }
        return Memory(rssKiB: rss, peakKiB: peak)
    }

    /// utime + stime (all threads, also exited ones) in seconds.
    static func cpuSeconds(pid: pid_t) -> Double? {
        let text = ChildProcess.read("/proc/\(pid)/stat")
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    struct Switches: Sendable {
        var total: Int
        var threads: Int
        var perThread: [Int: Int]
    }

    /// voluntary + nonvoluntary context switches summed over the live threads (/proc/PID/task/*/status).
    static func contextSwitches(pid: pid_t) -> Switches {
        var perThread: [Int: Int] = [:]
        if let directory = opendir("/proc/\(pid)/task") {
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard let tid = Int(name) else { continue }
                let text = ChildProcess.read("/proc/\(pid)/task/\(tid)/status")
                let switches = (field(text, "voluntary_ctxt_switches:") ?? 0) + (field(text, "nonvoluntary_ctxt_switches:") ?? 0)
                perThread[tid] = switches
            }
        }
        return Switches(total: perThread.values.reduce(0, +), threads: perThread.count, perThread: perThread)
    }

    /// The first number after `name` on its line ("VmRSS:\t  202028 kB" -> 202028).
    private static func field(_ text: String, _ name: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let digits = line.dropFirst(name.count).drop { !$0.isNumber }.prefix { $0.isNumber }
            return Int(digits)
        }
        return nil
    }
}
