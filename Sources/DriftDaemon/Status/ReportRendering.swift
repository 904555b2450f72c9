import DriftCore
import Foundation

/// How `akua-driftd check` prints one report for a person: state, each differing attribute with its
/// desired and actual values, and the expiry.
public enum ReportRendering {
    /// `ignored`: the config's `ignore_attributes` for the machine; the differing ones are marked and named.
    public static func text(_ report: DriftReport, machineLabel: String, nowMs: Int64, ignored: Set<String> = []) -> String {
        var lines: [String] = []
        lines.append("machine \(machineLabel): \(report.state.rawValue)")
        lines.append("report \(report.id) (etag \(report.etag)), created \(iso(report.createdAt)), expires \(iso(report.expiresAt)) (\(StatusReport.relative(report.expiresAt * 1000 - nowMs, past: false)))")
        let delta = report.delta ?? [:]
        if delta.isEmpty {
            lines.append(report.state == .drifted ? "the report lists no differing attributes" : "no attribute differs")
        } else {
            lines.append("\(delta.count) attribute\(delta.count == 1 ? "" : "s") differ\(delta.count == 1 ? "s" : ""):")
            let width = delta.keys.map(\.count).max() ?? 0
            for name in delta.keys.sorted() {
                let value = delta[name]!
                let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
                let mark = ignored.contains(name) ? "  (ignored)" : ""
                if let object = value.objectValue, object["desired"] != nil || object["actual"] != nil {
                    let desired = object["desired"]?.displayText ?? "-"
                    let actual = object["actual"]?.displayText ?? "-"
                    lines.append("  \(padded)  desired \(desired)  actual \(actual)\(mark)")
                } else {
                    lines.append("  \(padded)  \(value.displayText)\(mark)")
                }
            }
            let ignoredHere = ignoredAttributes(report, ignored: ignored)
            if !ignoredHere.isEmpty {
                let effect = ignoredHere.count == delta.count
                    ? "every differing attribute is ignored: announced as in_sync"
                    : "the others are announced"
                lines.append("ignored (ignore_attributes): \(ignoredHere.joined(separator: ", ")); \(effect)")
            }
        }
        if let snapshot = report.providerSnapshot {
            lines.append("provider \(snapshot.provider), \(snapshot.rawAttrs.count) raw attribute\(snapshot.rawAttrs.count == 1 ? "" : "s")")
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ report: DriftReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(report)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The report's JSON with `ignored_attributes` added (the differing attributes `ignored` leaves out)
    /// when the config ignores any attribute; else exactly `json(report)`.
    public static func json(_ report: DriftReport, ignored: Set<String>) -> String {
        if ignored.isEmpty { return json(report) }
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(report),
            var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return json(report) }
        object["ignored_attributes"] = ignoredAttributes(report, ignored: ignored)
        guard let out = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return json(report) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The differing attributes of a drifted report that `ignored` names, sorted.
    public static func ignoredAttributes(_ report: DriftReport, ignored: Set<String>) -> [String] {
        guard report.state == .drifted else { return [] }
        return (report.delta ?? [:]).keys.filter(ignored.contains).sorted()
    }

    static func iso(_ unixSeconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(unixSeconds)))
    }
}
