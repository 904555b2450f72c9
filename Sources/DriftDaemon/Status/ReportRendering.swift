import DriftCore
import Foundation

/// How `akua-driftd check` prints one report for a person: state, each differing attribute with its
/// desired and actual values, and the expiry.
public enum ReportRendering {
    public static func text(_ report: DriftReport, machineLabel: String, nowMs: Int64) -> String {
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
                if let object = value.objectValue, object["desired"] != nil || object["actual"] != nil {
                    let desired = object["desired"]?.displayText ?? "-"
                    let actual = object["actual"]?.displayText ?? "-"
                    lines.append("  \(padded)  desired \(desired)  actual \(actual)")
                } else {
                    lines.append("  \(padded)  \(value.displayText)")
                }
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

    static func iso(_ unixSeconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(unixSeconds)))
    }
}
