/// The journal `MESSAGE_ID`s akua-driftd emits, in one table shared by the engine and the webhook
/// dispatcher; each has an entry in deploy/akua-driftd.catalog (a test checks both ways).
public enum JournalMessageID {
    /// A machine drifted from its declared configuration.
    public static let drifted = "dc7614e992424aadb1f508c0d9b24d0e"
    /// A machine is (back) in sync.
    public static let inSync = "f2820db539934d1892130bf0c79eee4b"
    /// A machine's drift state became unknown (expiry, machine gone).
    public static let unknown = "1377544151bc43caa53d7384358c33ad"
    /// A webhook delivery failed permanently, or an endpoint was disabled (410).
    public static let webhookFailed = "6e37777d1ef344d9a8f6289ce3428eef"
    /// A reload found errors; the running config stays.
    public static let configRejected = "261660a403594acda50a63be2331b45b"
    /// A machine's checks fail with an error that retrying does not fix (token, unsupported machine).
    public static let checkFailing = "50436342e16c4de093f6e4639671aa76"
    /// A machine's checks have failed `[schedule] failing_after` times in a row.
    public static let checksFailing = "10ae6028cf09422eb9800a26905a577d"
    /// A machine whose checks were failing has been checked successfully again.
    public static let checksRecovered = "fc2b82a49e6649368a62543ea9768608"
    /// The drift-report operation answers 404/405/501 while the machine exists: a fleet-wide operator error.
    public static let apiOperationUnavailable = "0ba654723ea844578674305e54d577be"
    /// The API returned a complete report that breaks the contract (schema, timestamps, size).
    public static let invalidReport = "56c313d883844a7e80aaad104ed859c8"
    /// The local clock and the API's `Date` differ by more than 5 s.
    public static let clockSkew = "23894f1847004e21864e3c3854f0a138"
    /// The wall clock moved backwards.
    public static let clockJumped = "96ab2180be234fa5a856457d6d21ad63"
    /// 429/401/403: the whole check queue is paused.
    public static let fleetPaused = "a2cbb4b202734ceda9837b334a7fd047"
    /// A machine is still drifted or unknown: a reminder (`repeat_interval`) went to its webhooks.
    public static let reminder = "8e3169e7d45d48928b25a13a016a87fe"

    /// Every entry with its member name, for the catalog check and documentation.
    public static let all: [(name: String, id: String)] = [
        ("drifted", drifted), ("inSync", inSync), ("unknown", unknown), ("webhookFailed", webhookFailed),
        ("configRejected", configRejected), ("checkFailing", checkFailing), ("checksFailing", checksFailing),
        ("checksRecovered", checksRecovered), ("apiOperationUnavailable", apiOperationUnavailable),
        ("invalidReport", invalidReport), ("clockSkew", clockSkew), ("clockJumped", clockJumped),
        ("fleetPaused", fleetPaused), ("reminder", reminder),
    ]

    /// The id of a transition into `state`.
    public static func transition(to state: DriftState) -> String {
        switch state {
        case .drifted: drifted
        case .inSync: inSync
        case .unknown: unknown
        }
    }
}
