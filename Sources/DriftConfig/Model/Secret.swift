import DriftCore
import Foundation

/// A token or webhook secret that never prints itself: `description`, `debugDescription` and
/// reflection (`dump`, string interpolation) all show `<redacted>`. Call `reveal()` only where the
/// value is actually used.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: String
    /// Where the value came from, safe to log: a file path or `$AKUA_API_TOKEN`.
    public let source: String

    public init(_ value: String, source: String) {
        self.value = value
        self.source = source
    }

    /// The secret itself.
    public func reveal() -> String { value }

    /// For a Standard Webhooks secret (`whsec_<base64>`): the decoded signing key bytes (by
    /// `WebhookSecret.decode`, the decoder the signer uses); nil otherwise.
    public func revealWebhookKey() -> Data? {
        (try? WebhookSecret.decode(value)).map { Data($0) }
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
