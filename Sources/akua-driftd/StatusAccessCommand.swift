import ArgumentParser
import DriftDaemon
import DriftSystemd
import Foundation

/// `akua-driftd grant-status-access`: the unit's `ExecStartPost=+`; lets group `adm` read the status
/// snapshot in `/run/akua-driftd` (POSIX ACLs; see `StatusAccess`).
struct StatusAccessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant-status-access",
        abstract: "Let a group read the daemon's status snapshot (run by the unit as root).", shouldDisplay: false)

    @Option(help: "The runtime directory.")
    var directory: String = RuntimeFiles.serviceDirectory

    @Option(help: "The group to grant read access.")
    var group: String = "adm"

    func run() throws {
        do {
            try StatusAccess.grant(directory: directory, groupName: group)
        } catch {
            // Not fatal for the service: status still works for root; say why adm cannot read it.
            FileHandle.standardError.write(Data("akua-driftd: group \(group) cannot read \(directory): \(error)\n".utf8))
        }
    }
}
