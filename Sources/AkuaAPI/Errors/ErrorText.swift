import Foundation

/// Turning server-provided text into safe one-line details.
enum ErrorText {
    /// Longest detail kept from a server message, in characters.
    static let detailLimit = 200

    /// The first error's message (with its code), redacted, sanitized and truncated; nil when there is none.
    static func detail(of response: ApiErrorResponse, secrets: [String]) -> String? {
        guard let first = response.errors.first else { return nil }
        let message = sanitize(redact(first.message, secrets: secrets), limit: detailLimit)
        if message.isEmpty { return "error \(first.code)" }
        return "\(message) (code \(first.code))"
    }

    /// True when a 404 for a report id names the machine rather than the report as what is missing.
    ///
    /// Looks at `metadata.resource` (`machine` / `drift_report`), then `path` (`id` / `report_id`), then the message.
    /// Only a hint for `getDriftReport` (the daemon never relies on it): the contract leaves metadata free-form.
    static func blamesMachine(_ response: ApiErrorResponse) -> Bool {
        guard let first = response.errors.first else { return false }
        switch first.metadata?["resource"]?.lowercased() {
        case "machine": return true
        case "drift_report", "report": return false
        default: break
        }
        if let path = first.path, let last = path.last {
            if last == "report_id" { return false }
            if last == "id" || last == "machine_id" { return true }
        }
        let message = first.message.lowercased()
        return message.contains("machine") && !message.contains("report")
    }

    /// Replaces every occurrence of each non-empty secret with `[redacted]`.
    static func redact(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where !secret.isEmpty && result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return result
    }

    /// One line of at most `limit` characters: control and format characters become spaces, runs of
    /// whitespace collapse, and a cut is marked with `…`.
    static func sanitize(_ text: String, limit: Int) -> String {
        var out = ""
        var lastWasSpace = true
        for scalar in text.unicodeScalars {
            let category = scalar.properties.generalCategory
            let isSpace = scalar.properties.isWhitespace || category == .control || category == .format
                || category == .lineSeparator || category == .paragraphSeparator
                || category == .surrogate || category == .unassigned || category == .privateUse
            if isSpace {
                if !lastWasSpace { out.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
            if out.unicodeScalars.count > limit * 4 { break }
        }
        out = String(out.drop(while: { $0 == " " }))
        while out.last == " " { out.removeLast() }
        if out.count > limit {
            out = String(out.prefix(limit - 1)) + "…"
        }
        return out
    }
}
