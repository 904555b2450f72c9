import ArgumentParser
import DriftConfig
import DriftCore
import DriftDaemon
import Foundation

/// `akua-driftd status`: the state per machine, per webhook outbox and of the last reload, read from the
/// state file (safe while the daemon runs) or, for non-root members of `adm`, from the daemon's snapshot.
/// Never reads the API token. Exits like a monitoring plugin: 0 all in_sync, 1 any drifted,
/// 2 any unknown or failing, 3 the state cannot be read.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the state of every machine and webhook outbox (exit 0 in_sync, 1 drifted, 2 unknown or failing, 3 unreadable).")

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("state"), help: "State file (default: [state] path, else the service's /var/lib/akua-driftd/state.sqlite).")
    var statePath: String?

    @Flag(help: "Print a JSON array (one object per machine).")
    var json = false

    func run() throws {
        var settings: DaemonConfig?
        if FileManager.default.fileExists(atPath: config.path) {
            // The settings only (no secret is read); a broken config does not keep status from working.
            switch ConfigLoader.loadSettings(path: config.path) {
            case .success(let value): settings = value
            case .failure(let error):
                FileHandle.standardError.write(Data("akua-driftd: ignoring \(config.path) (invalid):\n".utf8))
                for diagnostic in error.diagnostics { FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8)) }
            }
        }
        let now = SystemClock().nowMs()
        switch StatusLocator(environment: ProcessInfo.processInfo.environment).read(explicit: statePath, config: settings, nowMs: now) {
        case .failure(let failure):
            FileHandle.standardError.write(Data("akua-driftd: cannot read the state: \(failure)\n".utf8))
            throw ExitCode(3)
        case .success(let (snapshot, source)):
            if json {
                print(StatusReport.json(snapshot.machines))
            } else {
                print(snapshot.text(nowMs: now))
                if case .snapshot(let path) = source {
                    print("from the daemon's snapshot \(path), taken \(StatusReport.relative(now - snapshot.taken_at * 1000, past: true))")
                }
            }
            let code = snapshot.exitCode
            if code != 0 { throw ExitCode(code) }
        }
    }
}
