import ArgumentParser
import DriftConfig
import DriftDaemon
import DriftStore
import Foundation

/// `akua-driftd status`: the state per machine from the state file (works while the daemon runs).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print the current state of every machine from the state file.")

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("state"), help: "State file (default: the config's [state] path).")
    var statePath: String?

    @Flag(help: "Print a JSON array.")
    var json = false

    func run() throws {
        let path: String
        var failingAfter = 3
        if let statePath {
            path = statePath
        } else {
            switch ConfigLoader.load(path: config.path) {
            case .success(let loaded):
                path = loaded.config.state.path
                failingAfter = loaded.config.schedule.failingAfter
            case .failure(let error):
                for diagnostic in error.diagnostics { FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8)) }
                throw ExitCode(78)
            }
        }
        do {
            let database = try AppDatabase.openReadOnly(path: path)
            let machines = try database.machines()
            let skew = try? database.clockSkewMs()
            print(json ? StatusReport.json(machines) : StatusReport.table(machines, nowMs: SystemClock().nowMs(), clockSkewMs: skew ?? nil, failingAfter: failingAfter))
        } catch {
            FileHandle.standardError.write(Data("akua-driftd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
