import ArgumentParser
import DriftSystemd

/// Hidden: emits known journal entries for the real-journald tests.
struct JournalProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal-probe", abstract: "Emit test entries to the journal.", shouldDisplay: false)

    @Option var message: String = "akua-driftd journal probe"
    @Option(name: .customLong("field")) var fields: [String] = []
    @Option var identifier: String = "akua-driftd"

    func run() throws {
        let status = JournalProbe.run(message: message, fields: fields, identifier: identifier)
        if status != 0 { throw ExitCode(status) }
    }
}
