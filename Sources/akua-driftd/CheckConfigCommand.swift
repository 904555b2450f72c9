import ArgumentParser
import DriftConfig
import DriftDaemon
import Foundation

/// `akua-driftd check-config`: exit 0 with a summary, or 78 with every `FILE:LINE: key:` error.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the config file (exit 0, or 78 with FILE:LINE: key: errors).")

    @OptionGroup var config: ConfigOption

    func run() throws {
        let result = ConfigCheck.run(path: config.path, extraChecks: DaemonAssembly.templateDiagnostics)
        for line in result.stderr { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        for line in result.stdout { print(line) }
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }
}
