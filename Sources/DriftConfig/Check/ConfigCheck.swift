import DriftCore
import Foundation

/// What `akua-driftd check-config` prints and its exit code: 0 with a one-line summary on stdout
/// and any warnings on stderr, or 78 (EX_CONFIG) with every diagnostic on stderr. Print the stderr
/// lines before the stdout line.
public enum ConfigCheck {
    /// EX_CONFIG from sysexits.h.
    public static let exitConfigError: Int32 = 78

    /// `extraChecks` adds problems found beyond the loader (webhook templates, parsed by DriftWebhooks).
    public static func run(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        extraChecks: (DaemonConfig) -> [ConfigDiagnostic] = { _ in [] }
    ) -> (exitCode: Int32, stdout: [String], stderr: [String]) {
        var result = ConfigLoader.load(path: path, environment: environment)
        if case .success(let loaded) = result {
            let extra = extraChecks(loaded.config)
            if !extra.isEmpty { result = .failure(ConfigError(diagnostics: loaded.warnings + extra)) }
        }
        // Outside the service (no credentials, no token_file, no $AKUA_API_TOKEN) the file itself can still be
        // checked: a missing token is then a warning, since systemd hands it over as a credential at start.
        if case .failure(let error) = result, error.errors.count == 1, let only = error.errors.first,
           only.key == "api.token_file", only.line == 0, only.message.hasPrefix("no API token"),
           environment["CREDENTIALS_DIRECTORY"] == nil {
            var placeholder = environment
            placeholder["AKUA_API_TOKEN"] = "check-config-placeholder"
            if case .success(var loaded) = ConfigLoader.load(path: path, environment: placeholder) {
                let extra = extraChecks(loaded.config)
                if !extra.isEmpty { return report(.failure(ConfigError(diagnostics: loaded.warnings + extra)), path: path) }
                var warning = only
                warning.severity = .warning
                warning.message = "no API token available here; `akua-driftd run` will need one: "
                    + "the service gets it as the akua-token credential (LoadCredential=akua-token:...), "
                    + "or set [api] token_file or AKUA_API_TOKEN"
                loaded.warnings.append(warning)
                return report(.success(loaded), path: path)
            }
        }
        return report(result, path: path)
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
