/// `[log]`: how much the daemon logs. Applied at start and on every reload.
public struct LogSettings: Sendable, Equatable {
    /// swift-log's levels, least to most severe (journal priorities debug … crit).
    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// One of `levels` (default `info`).
    public var level: String

    public init(level: String = "info") {
        self.level = level
    }
}
