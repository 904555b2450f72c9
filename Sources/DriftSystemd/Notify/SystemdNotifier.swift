#if canImport(CSystemd)
import CSystemd
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The service manager notification protocol (`Type=notify`, `WatchdogSec=`) through libsystemd's `sd_notify`.
///
/// Every call is a cheap no-op when `NOTIFY_SOCKET` is unset and off Linux. Methods return whether
/// a notification was actually delivered, which callers may ignore.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Whether a service manager listens (`NOTIFY_SOCKET` is set and non-empty).
    public var isEnabled: Bool {
        guard let value = getenv("NOTIFY_SOCKET") else { return false }
        return value.pointee != 0
    }

    /// `READY=1`, optionally with a `STATUS=` line: startup finished (config, database and timers are up).
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        notify(Self.readyMessage(status: status))
    }

    /// `RELOADING=1` plus `MONOTONIC_USEC=` (required by systemd >= 253 for `Type=notify-reload`,
    /// harmless before). Send `ready(status:)` once the reload is done.
    @discardableResult
    public func reloading(status: String? = nil) -> Bool {
        notify(Self.reloadingMessage(monotonicMicroseconds: Self.monotonicMicroseconds(), status: status))
    }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult
    public func stopping(status: String? = nil) -> Bool {
        notify(Self.joined(["STOPPING=1"], status: status))
    }

    /// `STATUS=`: the one-line text `systemctl status` shows.
    @discardableResult
    public func status(_ text: String) -> Bool {
        notify(Self.joined([], status: text))
    }

    /// `WATCHDOG=1`: keep-alive ping for `WatchdogSec=`.
    @discardableResult
    public func watchdogPing() -> Bool {
        notify("WATCHDOG=1")
    }

    /// The service's watchdog timeout (`WATCHDOG_USEC`, for this PID), or nil when no watchdog is armed.
    /// systemd recommends pinging every half of it; the caller schedules the pings.
    public func watchdogInterval() -> Duration? {
        #if canImport(CSystemd)
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(clamping: usec))
        #else
        return nil
        #endif
    }

    /// Sends a raw notification (newline-separated `KEY=value` assignments).
    @discardableResult
    public func notify(_ state: String) -> Bool {
        #if canImport(CSystemd)
        guard isEnabled else { return false }
        return sd_notify(0, state) > 0
        #else
        return false
        #endif
    }

    // MARK: - Message text (pure, for tests)

    /// `READY=1` and an optional `STATUS=` line.
    public static func readyMessage(status: String?) -> String {
        joined(["READY=1"], status: status)
    }

    /// `RELOADING=1`, `MONOTONIC_USEC=<usec>` and an optional `STATUS=` line.
    public static func reloadingMessage(monotonicMicroseconds: UInt64, status: String?) -> String {
        joined(["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds)"], status: status)
    }

    /// CLOCK_MONOTONIC in microseconds, the clock systemd expects in `MONOTONIC_USEC=`.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// Assignments joined by newlines; a status has its line breaks replaced by spaces
    /// because the protocol is line-based.
    private static func joined(_ assignments: [String], status: String?) -> String {
        var lines = assignments
        if let status {
            let oneLine = String(status.map { $0.isNewline ? " " : $0 })
            lines.append("STATUS=\(oneLine)")
        }
        return lines.joined(separator: "\n")
    }
}
