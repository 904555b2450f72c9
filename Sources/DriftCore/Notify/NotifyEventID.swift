/// Event ids of the policy's own messages: pure functions of recorded data, so two replicas agree.
public enum NotifyEventID {
    /// Reminder `n` (1, 2, ...) of the announced transition `transitionEventID`.
    public static func reminder(transitionEventID: String, number: Int) -> String {
        "evt_" + StableHash.sha256Hex([transitionEventID, "reminder", String(number)], length: 32)
    }

    /// `drifted → drifted` with another set of differing attributes, seen in report `reportID`.
    public static func changed(machineID: String, reportID: String) -> String {
        "evt_" + StableHash.sha256Hex([machineID, reportID, "changed"], length: 32)
    }

    /// The group message of `webhook` for the window starting at `bucketStartMs`.
    public static func group(webhook: String, bucketStartMs: Int64) -> String {
        "evt_" + StableHash.sha256Hex([webhook, "group", String(bucketStartMs)], length: 32)
    }
}
