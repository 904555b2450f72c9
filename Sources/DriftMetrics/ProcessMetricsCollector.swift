import Prometheus
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The standard Prometheus process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`, `process_start_time_seconds`),
/// read from `/proc/self` at scrape time as the Go and Python clients do (swift-prometheus has none).
final class ProcessMetricsCollector: Sendable {
    struct Sample {
        var name: String
        var help: String
        var value: Double
    }

    static let cpuSecondsName = "process_cpu_seconds_total"
    /// The CPU seconds already added to the counter (a counter only goes up, so each scrape adds the rest).
    private let cpu = Mutex<(counter: Counter?, seconds: Double)>((nil, 0))

    /// The current values; a file that cannot be read leaves its metrics out.
    func sample() -> [Sample] {
        var samples: [Sample] = []
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = Self.read("/proc/self/stat"), let fields = Self.statFields(stat), fields.count > 21, ticks > 0 {
            // Fields after the ")" of comm, numbered from 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
            func field(_ number: Int) -> Double { Double(fields[number - 3]) ?? 0 }
            samples.append(Sample(name: Self.cpuSecondsName, help: "Total user and system CPU time spent in seconds.",
                                  value: (field(14) + field(15)) / ticks))
            samples.append(Sample(name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", value: field(23)))
            samples.append(Sample(name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", value: field(24) * pageSize))
            if let boot = Self.bootTime() {
                samples.append(Sample(name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.",
                                      value: boot + field(22) / ticks))
            }
        }
        if let fds = Self.openFileDescriptors() {
            samples.append(Sample(name: "process_open_fds", help: "Number of open file descriptors.", value: Double(fds)))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            samples.append(Sample(name: "process_max_fds", help: "Maximum number of open file descriptors.", value: Double(limit.rlim_cur)))
        }
        return samples
    }

    /// Raises `process_cpu_seconds_total` to `seconds`.
    func advanceCPU(registry: PrometheusCollectorRegistry, to seconds: Double) {
        cpu.withLock { state in
            let counter = state.counter ?? registry.makeCounter(descriptor: describe(Self.cpuSecondsName, "Total user and system CPU time spent in seconds."))
            state.counter = counter
            if seconds > state.seconds {
                counter.increment(by: seconds - state.seconds)
                state.seconds = seconds
            }
        }
    }

    /// The space-separated fields after the command name, which may itself hold spaces and parentheses.
    static func statFields(_ text: String) -> [Substring]? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    }

    /// The boot instant (unix seconds): the wall clock minus CLOCK_BOOTTIME, the clock `starttime` counts
    /// on. (/proc/stat's `btime` is hidden by the unit's `ProcSubset=pid`.)
    static func bootTime() -> Double? {
        var wall = timespec()
        var boot = timespec()
        guard clock_gettime(CLOCK_REALTIME, &wall) == 0, clock_gettime(CLOCK_BOOTTIME, &boot) == 0 else { return nil }
        return (Double(wall.tv_sec) + Double(wall.tv_nsec) / 1e9) - (Double(boot.tv_sec) + Double(boot.tv_nsec) / 1e9)
    }

    static func openFileDescriptors() -> Int? {
        guard let dir = opendir("/proc/self/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0.first ?? 0 }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return count - 1  // the directory stream's own descriptor
    }

    /// A small /proc file's text (these files report size 0, so read until EOF).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
