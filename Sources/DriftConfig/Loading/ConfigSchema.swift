/// The keys each table of the config file accepts, in documentation order.
enum ConfigSchema {
    static let topLevel = ["api", "schedule", "state", "log", "metrics", "notify", "webhook", "machine", "maintenance"]
    static let api = ["base_url", "token_file", "context", "timeout", "max_in_flight", "allow_insecure_http"]
    static let schedule = ["interval", "refresh_before_expiry", "catch_up_window", "trigger", "failing_after"]
    static let state = ["path", "retention"]
    static let log = ["level"]
    static let metrics = ["listen", "allow_remote", "per_machine"]
    /// `[notify]`: the notification policy's defaults; a `[[webhook]]` takes the same keys.
    static let notify = ["confirm", "for", "repeat_interval", "ignore_attributes", "group_wait"]
    static let webhook = ["url", "secret_file", "events", "timeout", "name", "allow_insecure_http", "format", "routing_key_file", "template_file", "content_type", "url_file"] + notify
    /// A machine's own keys; the notification keys (`machineNotify`) are looked up only when a block has more.
    static let machineBase = ["id", "name", "interval"]
    /// `group_wait` is a receiver's: a machine has no group of its own.
    static let machineNotify = ["confirm", "for", "repeat_interval", "ignore_attributes"]
    static let machine = machineBase + machineNotify
    static let maintenance = ["machines", "days", "from", "to", "timezone"]

    /// How each top-level key is written as a header, for suggestions.
    static func header(for key: String) -> String {
        key == "webhook" || key == "machine" || key == "maintenance" ? "[[\(key)]]" : "[\(key)]"
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
    /// `confirm`: reports in a row that must agree before a new state is announced.
    static let confirm = 1...100
    /// Longest `for` (a state must hold this long before it is announced).
    static let maximumConfirmFor: Int64 = 7 * 86_400_000
    /// Shortest `repeat_interval` other than "0" (off).
    static let minimumRepeatInterval: Int64 = 1_000
    /// `group_wait` other than "0" (off): from 1 s to 10 min.
    static let minimumGroupWait: Int64 = 1_000
    static let maximumGroupWait: Int64 = 600_000
    /// An `ignore_attributes` name.
    static let attributeNameLength = 1...256
    /// Largest config or drop-in file read (bigger files are refused unread): 256 MiB, room for about
    /// four million `[[machine]]` blocks (a million take about 55 MB).
    static let maximumFileBytes = 256 * 1024 * 1024
    /// Largest token or secret file read.
    static let maximumSecretBytes = 64 * 1024
}
