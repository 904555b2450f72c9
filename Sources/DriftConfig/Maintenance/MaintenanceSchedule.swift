import DriftCore

/// The `[[maintenance]]` windows as the notification policy asks them: a machine is muted while a window
/// that covers it is active, until the latest end among those windows.
public struct MaintenanceSchedule: MuteSchedule, Equatable {
    public var windows: [MaintenanceWindow]

    public init(windows: [MaintenanceWindow]) {
        self.windows = windows
    }

    /// The active window covering `machineID` that ends last (the first such in file order on a tie),
    /// with its description as the reason; nil when none is active.
    public func muted(machineID: String, atMs: Int64) -> Mute? {
        var found: Mute?
        for window in windows where window.appliesTo(machineID: machineID) {
            guard let until = window.activeUntil(atMs: atMs), until > (found?.untilMs ?? .min) else { continue }
            found = Mute(untilMs: until, reason: window.description)
        }
        return found
    }
}
