#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock in unix milliseconds, injected so tests can jump it forward and back, plus an optional
/// clock of elapsed time that lets the engine tell a wall-clock jump from time passing.
public protocol EngineClock: Sendable {
    func nowMs() -> Int64
    /// Milliseconds of elapsed time that no one can set (CLOCK_BOOTTIME: it counts a suspend too, so a
    /// suspend is time passing, not a jump), or nil when the clock has none.
    func elapsedMs() -> Int64?
}

extension EngineClock {
    public func elapsedMs() -> Int64? { nil }
}

/// The real wall clock, with CLOCK_BOOTTIME as its elapsed-time reference.
public struct SystemClock: EngineClock {
    public init() {}
    public func nowMs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    public func elapsedMs() -> Int64? {
        var spec = timespec()
        #if os(Linux)
        clock_gettime(CLOCK_BOOTTIME, &spec)
        #else
        clock_gettime(CLOCK_MONOTONIC, &spec)
        #endif
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
