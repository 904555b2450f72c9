import ArgumentParser
import DriftConfig
import DriftDaemon
import DriftStore
import Foundation

/// `akua-driftd state`: maintenance of the state file.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Maintain the state file.", subcommands: [StateBackupCommand.self])
}

/// `akua-driftd state backup FILE`: a consistent copy while the daemon runs (SQLite's online backup).
struct StateBackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Copy the state file consistently, even while the daemon runs (mode 0600).")

    @Argument(help: "Where to write the copy (replaced atomically).")
    var destination: String

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("state"), help: "State file (default: [state] path, else the service's /var/lib/akua-driftd/state.sqlite).")
    var statePath: String?

    func run() throws {
        let settings = try? ConfigLoader.loadSettings(path: config.path).get()
        let locator = StatusLocator(environment: ProcessInfo.processInfo.environment)
        let source = locator.statePath(explicit: statePath, configured: settings?.state.path)
        do {
            let database = try AppDatabase.openReadOnly(path: source)
            try database.backup(to: destination)
            let copy = try AppDatabase.openReadOnly(path: destination)
            let integrity = try copy.integrityCheck()
            guard integrity == "ok" else {
                FileHandle.standardError.write(Data("akua-driftd: the copy \(destination) failed its integrity check: \(integrity)\n".utf8))
                throw ExitCode(1)
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
            print("backed up \(source) to \(destination) (\(size) bytes, integrity ok)")
        } catch let error as StoreError {
            FileHandle.standardError.write(Data("akua-driftd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
