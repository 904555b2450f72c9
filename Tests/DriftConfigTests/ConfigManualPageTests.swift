import Foundation
import Testing

@testable import DriftConfig

/// akua-driftd.toml(5) documents every table and key the config accepts.
@Suite struct ConfigManualPageTests {
    /// The page's text per section (`.Sh` heading), as written (mdoc source).
    static func sections() throws -> [String: String] {
        let page = try String(contentsOfFile: repositoryRoot + "/doc/man/akua-driftd.toml.5", encoding: .utf8)
        var sections: [String: String] = [:]
        var current = ""
        for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(".Sh ") {
                current = String(line.dropFirst(4))
            } else {
                sections[current, default: ""] += line + "\n"
            }
        }
        return sections
    }

    @Test func everyTableAndKeyHasAnEntry() throws {
        let keysPerTable: [String: [String]] = [
            "api": ConfigSchema.api, "schedule": ConfigSchema.schedule, "state": ConfigSchema.state,
            "log": ConfigSchema.log, "metrics": ConfigSchema.metrics, "webhook": ConfigSchema.webhook,
            "machine": ConfigSchema.machine, "notify": ConfigSchema.notify, "maintenance": ConfigSchema.maintenance,
        ]
        // A table added to the schema must be added here (and to the page).
        #expect(Set(keysPerTable.keys) == Set(ConfigSchema.topLevel))
        let sections = try Self.sections()
        for table in ConfigSchema.topLevel {
            let heading = ConfigSchema.header(for: table)
            guard let text = sections[heading] else {
                Issue.record("doc/man/akua-driftd.toml.5 has no section \(heading)")
                continue
            }
            for key in keysPerTable[table] ?? [] {
                #expect(text.contains(".It Ic \(key) "), "doc/man/akua-driftd.toml.5: \(heading) does not describe \(key)")
            }
        }
    }
}
