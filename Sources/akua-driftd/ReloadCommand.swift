import ArgumentParser
import DriftCore
import DriftDaemon
import Foundation

/// `akua-driftd reload`: the unit's `ExecReload=`. Sends SIGHUP to the daemon and waits for the outcome it
/// records in its runtime directory, so that `systemctl reload` fails (and `systemctl status` shows the
/// `FILE:LINE: key:` errors) when the new config is rejected, and succeeds only once it is applied.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload the running daemon's config and wait for the outcome (exit 0 applied, 1 rejected or no answer).")

    @Option(name: .customLong("pid"), help: "The daemon's pid (default: $MAINPID, as systemd sets it for ExecReload=).")
    var pid: Int32?

    @Option(name: .customLong("timeout"), help: "How long to wait for the daemon's answer.")
    var timeout: String = "60s"

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let pid = pid ?? environment["MAINPID"].flatMap(Int32.init), pid > 0 else {
            FileHandle.standardError.write(Data("akua-driftd: no --pid and no $MAINPID: use `systemctl reload akua-driftd`, or pass --pid\n".utf8))
            throw ExitCode(2)
        }
        guard let timeoutMs = try? DurationText.milliseconds(timeout), timeoutMs > 0 else {
            throw ValidationError("--timeout: invalid duration \"\(timeout)\" (e.g. 30s, 2m)")
        }
        let files = RuntimeFiles.fromEnvironment(environment) ?? RuntimeFiles(directory: RuntimeFiles.serviceDirectory)
        let before = ReloadOutcome.read(from: files)?.generation ?? -1
        guard kill(pid, SIGHUP) == 0 else {
            FileHandle.standardError.write(Data("akua-driftd: cannot signal pid \(pid): \(String(cString: strerror(errno)))\n".utf8))
            throw ExitCode(1)
        }
        let deadline = SystemClock().nowMs() + timeoutMs
        while SystemClock().nowMs() < deadline {
            if let outcome = ReloadOutcome.read(from: files), outcome.generation > before {
                if outcome.accepted {
                    print("akua-driftd: reload \(outcome.generation) applied")
                    return
                }
                var text = "akua-driftd: reload rejected, the running config stays in effect:\n"
                for line in outcome.errors { text += line + "\n" }
                FileHandle.standardError.write(Data(text.utf8))
                throw ExitCode(1)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        FileHandle.standardError.write(Data(
            "akua-driftd: no reload outcome from pid \(pid) in \(files.path(RuntimeFiles.reloadFileName)) within \(timeout)\n".utf8))
        throw ExitCode(1)
    }
}
