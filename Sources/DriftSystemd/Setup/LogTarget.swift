/// Where log records go: the `--log-target` option of `akua-driftd run`.
public enum LogTarget: String, Sendable, CaseIterable, Hashable {
    /// journald when systemd started us, stderr otherwise.
    case auto
    /// Structured entries via `sd_journal_sendv`.
    case journal
    /// Human-readable lines on stderr.
    case stderr

    /// The concrete target (`.journal` or `.stderr`, never `.auto`).
    ///
    /// `auto` picks journal when `JOURNAL_STREAM` or `INVOCATION_ID` is set and non-empty
    /// (both are exported by systemd to the processes of a service), else stderr.
    public func resolve(environment: [String: String]) -> LogTarget {
        switch self {
        case .journal, .stderr:
            return self
        case .auto:
            let startedBySystemd = ["JOURNAL_STREAM", "INVOCATION_ID"].contains { !(environment[$0] ?? "").isEmpty }
            return startedBySystemd ? .journal : .stderr
        }
    }
}
