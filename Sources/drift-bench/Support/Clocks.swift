#if canImport(Glibc)
import Glibc
#endif

/// Clock readings for measurements: monotonic for durations, wall clock for comparing with the daemon's
/// own timestamps (transition times in webhook payloads).
enum Clocks {
    /// CLOCK_MONOTONIC in nanoseconds.
    static func monotonicNs() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// CLOCK_REALTIME in microseconds.
    static func wallUs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1_000
    }

    /// Seconds between two monotonic readings.
    static func seconds(from start: UInt64, to end: UInt64) -> Double {
        Double(Int64(bitPattern: end &- start)) / 1e9
    }

    /// Sleeps without blocking a cooperative thread for long.
    static func sleep(seconds: Double) async {
        try? await Task.sleep(for: .milliseconds(Int(max(0, seconds) * 1000)))
    }
}
