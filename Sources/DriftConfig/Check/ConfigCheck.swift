import DriftCore
import Foundation

/// What `akua-driftd check-config` prints and its exit code: 0 with a one-line summary on stdout
/// and any warnings on stderr, or 78 (EX_CONFIG) with every diagnostic on stderr. Print the stderr
/// lines before the stdout line.
public enum ConfigCheck {
    /// EX_CONFIG from sysexits.h.
    public static let exitConfigError: Int32 = 78

    public static func run(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (exitCode: Int32, stdout: [String], stderr: [String]) {
        report(ConfigLoader.load(path: path, environment: environment), path: path)
    }

    /// The output for an already loaded (or failed) config.
    public static func report(
        _ result: Result<LoadedConfig, ConfigError>, path: String
    ) -> (exitCode: Int32, stdout: [String], stderr: [String]) {
        switch result {
        case .success(let loaded):
            return (0, [summary(loaded)], loaded.warnings.map(\.description))
        case .failure(let error):
            return (exitConfigError, [], error.diagnostics.map(\.description))
        }
    }

    /// `PATH: OK: 12 machines, 2 webhooks, default interval 15m, api https://api.akua.dev/v1`.
    public static func summary(_ loaded: LoadedConfig) -> String {
        let config = loaded.config
        let machines = config.machines.count == 1 ? "1 machine" : "\(config.machines.count) machines"
        let webhooks = config.webhooks.count == 1 ? "1 webhook" : "\(config.webhooks.count) webhooks"
        let interval = DurationText.format(milliseconds: config.schedule.intervalMilliseconds)
        return "\(loaded.path): OK: \(machines), \(webhooks), default interval \(interval), api \(config.api.baseURL)"
    }
}
