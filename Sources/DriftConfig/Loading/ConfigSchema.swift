/// The keys each table of the config file accepts, in documentation order.
enum ConfigSchema {
    static let topLevel = ["api", "schedule", "state", "log", "metrics", "webhook", "machine"]
    static let api = ["base_url", "token_file", "context", "timeout", "max_in_flight", "allow_insecure_http"]
    static let schedule = ["interval", "refresh_before_expiry", "catch_up_window", "trigger", "failing_after"]
    static let state = ["path", "retention"]
    static let log = ["level"]
    static let metrics = ["listen", "allow_remote", "per_machine"]
    static let webhook = ["url", "secret_file", "events", "timeout", "name", "allow_insecure_http", "format", "routing_key_file", "template_file", "content_type", "url_file"]
    static let machine = ["id", "name", "interval"]

    /// How each top-level key is written as a header, for suggestions.
    static func header(for key: String) -> String {
        key == "webhook" || key == "machine" ? "[[\(key)]]" : "[\(key)]"
    }

    /// Longest duration accepted anywhere (365 days), so durations stay far from overflow in nanoseconds.
    static let maximumDuration: Int64 = 365 * 86_400_000
    /// Shortest check interval.
    static let minimumInterval: Int64 = 1_000
    static let machineIDLength = 1...54
    static let contextLength = 1...53
    static let triggerLength = 1...64
    static let nameLength = 1...128
    static let maxInFlight = 1...1024
    /// `[schedule] failing_after`: consecutive failed checks before "checks failing".
    static let failingAfter = 1...1_000_000
    /// Largest config or drop-in file read (bigger files are refused unread): 256 MiB, room for about
    /// four million `[[machine]]` blocks (a million take about 55 MB).
    static let maximumFileBytes = 256 * 1024 * 1024
    /// Largest token or secret file read.
    static let maximumSecretBytes = 64 * 1024
}
