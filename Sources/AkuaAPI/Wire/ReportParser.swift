import DriftCore
import Foundation

/// The fast path of the one decode every check makes: a strict single-pass JSON reader straight into a
/// `DriftReport`, about ten times cheaper than `JSONDecoder` (which builds a map of the document, then
/// walks it through `Decoder` containers).
///
/// It only answers when the answer is unambiguous: a complete, well-formed document whose fields all have
/// the schema's types and ranges. Anything else (a syntax error, a trailing comma Foundation tolerates,
/// a duplicate key, a missing or mistyped field, a number out of range, nesting deeper than 64) returns
/// nil, and `WireDecoding` decodes with `JSONDecoder` as before, which gives the same report or the
/// readable reason. A differential test holds both to the same result.
package enum ReportParser {
    /// The report in `body`, or nil to let `JSONDecoder` decide.
    package static func report(_ body: Data) -> DriftReport? {
        body.withUnsafeBytes { raw in
            guard case .object(let members)? = JSONReader.parse(raw.bindMemory(to: UInt8.self)) else { return nil }
            return report(members)
        }
    }

    /// The report from a parsed top-level object, by the rules of `DriftReport.init(from:)`.
    static func report(_ m: [String: JSONValue]) -> DriftReport? {
        guard case .string(let id)? = m["id"], case .string(let machineID)? = m["machine_id"],
              case .string(let stateText)? = m["state"], let state = ReportState(rawValue: stateText),
              case .string(let etag)? = m["etag"],
              let createdAt = timestamp(m["created_at"]), let startedAt = timestamp(m["started_at"]),
              let expiresAt = timestamp(m["expires_at"]),
              !machineID.isEmpty, machineID.unicodeScalars.count <= 54
        else { return nil }
        var delta: [String: JSONValue]?
        switch m["delta"] {
        case nil, .null?: delta = nil
        case .object(let members)?: delta = members
        default: return nil
        }
        var snapshot: ProviderSnapshot?
        switch m["provider_snapshot"] {
        case nil, .null?: snapshot = nil
        case let value?:
            guard let parsed = ProviderSnapshot(json: value) else { return nil }
            snapshot = parsed
        default: return nil
        }
        return DriftReport(
            id: id, machineID: machineID, state: state, etag: etag, createdAt: createdAt, startedAt: startedAt,
            expiresAt: expiresAt, delta: delta, providerSnapshot: snapshot)
    }

    private static func timestamp(_ value: JSONValue?) -> Int64? {
        guard case .integer(let seconds)? = value, seconds >= 0, seconds <= DriftReport.maxTimestamp else { return nil }
        return seconds
    }
}
