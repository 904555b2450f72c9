import DriftCore

/// The journal `MESSAGE_ID`s the daemon emits; each has an entry in deploy/akua-driftd.catalog.
public enum JournalMessageID {
    public static let drifted = "dc7614e992424aadb1f508c0d9b24d0e"
    public static let inSync = "f2820db539934d1892130bf0c79eee4b"
    public static let unknown = "1377544151bc43caa53d7384358c33ad"
    public static let webhookFailed = "6e37777d1ef344d9a8f6289ce3428eef"
    public static let configRejected = "261660a403594acda50a63be2331b45b"
    public static let checkFailing = "50436342e16c4de093f6e4639671aa76"

    public static func transition(to state: DriftState) -> String {
        switch state {
        case .drifted: drifted
        case .inSync: inSync
        case .unknown: unknown
        }
    }
}
