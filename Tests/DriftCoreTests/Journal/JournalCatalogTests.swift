import Foundation
import Testing

@testable import DriftCore

/// Every journal MESSAGE_ID the daemon can emit has an entry in deploy/akua-driftd.catalog, and the
/// catalog documents no id the daemon does not emit.
@Suite("Journal MESSAGE_ID table and catalog")
struct JournalCatalogTests {
    static let catalogPath: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("deploy/akua-driftd.catalog").path
    }()

    /// The ids of the catalog's `-- ID` entry headers (journalctl's catalog format), with their subjects.
    static func catalogEntries() throws -> [(id: String, subject: String)] {
        let lines = try String(contentsOfFile: catalogPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var entries: [(id: String, subject: String)] = []
        for (index, line) in lines.enumerated() where line.hasPrefix("-- ") {
            let id = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
            let subject = index + 1 < lines.count && lines[index + 1].hasPrefix("Subject: ") ? String(lines[index + 1].dropFirst(9)) : ""
            entries.append((id, subject))
        }
        return entries
    }

    @Test("the table and the catalog list the same ids, each once")
    func tableMatchesCatalog() throws {
        let catalog = try Self.catalogEntries()
        let catalogIDs = catalog.map(\.id)
        let tableIDs = JournalMessageID.all.map(\.id)
        #expect(Set(catalogIDs).count == catalogIDs.count, "an id appears twice in the catalog")
        #expect(Set(tableIDs).count == tableIDs.count, "two members share an id")
        #expect(Set(JournalMessageID.all.map(\.name)).count == tableIDs.count)
        let missing = JournalMessageID.all.filter { !catalogIDs.contains($0.id) }.map(\.name)
        #expect(missing.isEmpty, "not in the catalog: \(missing)")
        let undocumented = Set(catalogIDs).subtracting(tableIDs)
        #expect(undocumented.isEmpty, "catalog entries the daemon never emits: \(undocumented)")
    }

    @Test("ids are 128-bit lowercase hex and every entry has a subject")
    func wellFormed() throws {
        for (id, subject) in try Self.catalogEntries() {
            #expect(id.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase }, "\(id)")
            #expect(!subject.isEmpty, "\(id) has no Subject: line")
        }
    }

    @Test("the members the engine uses for the issue-9 conditions exist and differ")
    func newMembers() {
        let ids = [
            JournalMessageID.checksFailing, JournalMessageID.checksRecovered, JournalMessageID.apiOperationUnavailable,
            JournalMessageID.invalidReport, JournalMessageID.clockSkew, JournalMessageID.clockJumped,
            JournalMessageID.fleetPaused, JournalMessageID.checkFailing, JournalMessageID.webhookFailed,
        ]
        #expect(Set(ids).count == ids.count)
        #expect(JournalMessageID.transition(to: .drifted) == JournalMessageID.drifted)
        #expect(JournalMessageID.transition(to: .inSync) == JournalMessageID.inSync)
        #expect(JournalMessageID.transition(to: .unknown) == JournalMessageID.unknown)
    }
}
