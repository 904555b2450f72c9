import Foundation
import Testing

@testable import DriftConfig

/// `[log] level`, `[state] retention`, the settings-only load of `status` (no secret read) and the
/// service's token file as the CLI's last resort (README, "Operating it").
@Suite struct OperatorKeysTests {
    let directory = TempDirectory()
    let machines = "\n[[machine]]\nid = \"mch_1\"\n"
    let environment = ["AKUA_API_TOKEN": "tok"]

    @Test func logLevelAndRetentionDefaultsAndValues() {
        let defaults = loaded(ConfigLoader.parse(text: machines, file: "c.toml", environment: environment))
        #expect(defaults?.config.log.level == "info")
        #expect(defaults?.config.state.retentionMilliseconds == Int64(2_592_000_000))
        let set = loaded(ConfigLoader.parse(
            text: "[log]\nlevel = \"debug\"\n[state]\nretention = \"7d12h\"\n" + machines, file: "c.toml", environment: environment))
        #expect(set?.config.log.level == "debug")
        #expect(set?.config.state.retentionMilliseconds == Int64(648_000_000), "7d12h")
        for level in ["trace", "debug", "info", "notice", "warning", "error", "critical"] {
            #expect(loaded(ConfigLoader.parse(text: "[log]\nlevel = \"\(level)\"\n" + machines, file: "c.toml", environment: environment))?
                .config.log.level == level)
        }
    }

    @Test func badLogLevelAndRetentionAreFileLineKeyErrors() {
        let result = ConfigLoader.parse(
            text: "[log]\nlevel = \"verbose\"\n[state]\nretention = \"10m\"\n" + machines, file: "c.toml", environment: environment)
        #expect(errorLines(result) == [
            #"c.toml:2: log.level: unknown level "verbose" (use one of: trace, debug, info, notice, warning, error, critical)"#,
            #"c.toml:4: state.retention: must be at least 1h, got "10m""#,
        ])
    }

    @Test func settingsLoadReadsNoSecret() {
        let path = directory.write("config.toml", "[api]\ntoken_file = \"/nonexistent/token\"\n" + machines)
        // The full load needs the token; the settings-only load (status, state backup) does not.
        #expect(!errorLines(ConfigLoader.load(path: path, environment: [:])).isEmpty)
        switch ConfigLoader.loadSettings(path: path, environment: [:]) {
        case .success(let config): #expect(config.machines.map(\.id) == ["mch_1"])
        case .failure(let error): Issue.record("settings load failed: \(error)")
        }
        var reads: [String] = []
        _ = ConfigLoader.parse(
            bytes: Array(("[api]\ntoken_file = \"/t\"\n[[webhook]]\nurl = \"https://h.example/x\"\nsecret_file = \"/s\"\n" + machines).utf8),
            file: "c.toml", environment: [:], readFile: { reads.append($0); return .missing }, secrets: .none)
        #expect(reads.isEmpty, "no secret file is opened: \(reads)")
    }

    @Test func serviceTokenFileIsTheLastResort() {
        let service = directory.write("service-token", "from-service\n")
        let path = directory.write("config.toml", machines)
        let fromService = loaded(ConfigLoader.load(path: path, environment: [:], tokenFallbackFile: service))
        #expect(fromService?.token.reveal() == "from-service")
        #expect(fromService?.token.source == service)
        // Any configured source wins over it.
        let fromEnvironment = loaded(ConfigLoader.load(path: path, environment: ["AKUA_API_TOKEN": "env"], tokenFallbackFile: service))
        #expect(fromEnvironment?.token.reveal() == "env")
        // None at all: the message names every place looked at, the service's file included.
        let missing = directory.path + "/no-token"
        let lines = errorLines(ConfigLoader.load(path: path, environment: [:], tokenFallbackFile: missing))
        #expect(lines.count == 1)
        #expect(lines.first?.contains("$CREDENTIALS_DIRECTORY/akua-token") == true && lines.first?.contains("AKUA_API_TOKEN") == true
                && lines.first?.contains("\"\(missing)\"") == true, "\(lines)")
    }
}

extension OperatorKeysTests {
    @Test func checkReadsTheTokenButNoWebhookSecret() {
        let tokenFile = directory.write("token", "tok\n")
        var reads: [String] = []
        let result = ConfigLoader.parse(
            bytes: Array(("[api]\ntoken_file = \"\(tokenFile)\"\n[[webhook]]\nurl = \"https://h.example/x\"\n" + machines).utf8),
            file: "c.toml", environment: [:], readFile: { reads.append($0); return ConfigLoader.readFileFromDisk($0) },
            secrets: .tokenOnly)
        #expect(loaded(result)?.token.reveal() == "tok")
        #expect(loaded(result)?.config.webhooks.isEmpty == true, "no webhook without its secret")
        #expect(reads == [tokenFile], "only the token is read: \(reads)")
    }
}
