import Foundation
import Testing

@testable import DriftConfig

@Suite struct SecretResolutionTests {
    let directory = TempDirectory()
    let machines = "\n[[machine]]\nid = \"mch_1\"\n"

    private func load(_ text: String, environment: [String: String]) -> Result<LoadedConfig, ConfigError> {
        ConfigLoader.load(path: directory.write("config.toml", text), environment: environment)
    }

    @Test func tokenFileWinsOverCredentialsDirectoryAndEnvironment() {
        let credentials = directory.makeDirectory("creds")
        directory.write("creds/akua-token", "from-credentials\n")
        let tokenFile = directory.write("token", "from-token-file\n")
        let environment = ["CREDENTIALS_DIRECTORY": credentials, "AKUA_API_TOKEN": "from-env"]

        let explicit = loaded(load("[api]\ntoken_file = \"\(tokenFile)\"\n" + machines, environment: environment))
        #expect(explicit?.token.reveal() == "from-token-file")
        #expect(explicit?.token.source == tokenFile)
        #expect(explicit?.config.api.tokenFile == tokenFile)

        let fromCredentials = loaded(load(machines, environment: environment))
        #expect(fromCredentials?.token.reveal() == "from-credentials")
        #expect(fromCredentials?.token.source == credentials + "/akua-token")
        #expect(fromCredentials?.config.api.tokenFile == nil)

        let fromEnvironment = loaded(load(machines, environment: ["CREDENTIALS_DIRECTORY": directory.path + "/empty", "AKUA_API_TOKEN": "from-env"]))
        #expect(fromEnvironment?.token.reveal() == "from-env")
        #expect(fromEnvironment?.token.source == "$AKUA_API_TOKEN")
    }

    @Test func aConfiguredButMissingTokenFileDoesNotFallBack() {
        let result = load("[api]\ntoken_file = \"/nonexistent/token\"\n" + machines, environment: ["AKUA_API_TOKEN": "from-env"])
        #expect(errorLines(result).count == 1)
        #expect(errorLines(result).first?.hasSuffix(#"api.token_file: cannot read token file "/nonexistent/token": No such file or directory"#) == true)
    }

    @Test func anUnreadableCredentialDoesNotFallBack() {
        let credentials = directory.makeDirectory("creds")
        directory.makeDirectory("creds/akua-token")
        let result = load(machines, environment: ["CREDENTIALS_DIRECTORY": credentials, "AKUA_API_TOKEN": "x"])
        #expect(errorLines(result).map { $0.components(separatedBy: ".toml:").last ?? "" } == [
            #"0: api.token_file: cannot read token file "\#(credentials)/akua-token": Is a directory"#
        ])
    }

    @Test func webhookSecretFromFileOrCredentials() {
        let credentials = directory.makeDirectory("creds")
        directory.write("creds/webhook-secret", sampleWebhookSecret + "\n")
        let own = directory.write("own-secret", "whsec_" + Data(repeating: 7, count: 32).base64EncodedString())
        let text = """
            [[webhook]]
            url = "https://a.example/hook"
            [[webhook]]
            url = "https://b.example/hook"
            secret_file = "\(own)"
            events = ["drifted"]
            name = "b"
            """ + machines
        let config = loaded(load(text, environment: ["CREDENTIALS_DIRECTORY": credentials, "AKUA_API_TOKEN": "t"]))
        #expect(config?.webhookSecrets.map { $0.reveal() } == [sampleWebhookSecret, "whsec_" + Data(repeating: 7, count: 32).base64EncodedString()])
        #expect(config?.webhookSecrets.last?.revealWebhookKey() == Data(repeating: 7, count: 32))
        #expect(config?.config.webhooks.map(\.name) == ["a.example", "b"])
        #expect(config?.config.webhooks.last?.events == [.drifted])
        #expect(config?.config.webhooks.first?.events == [.drifted, .inSync, .unknown])
        #expect(config?.config.webhooks.first?.secretFile == nil)

        let missing = load(text, environment: ["AKUA_API_TOKEN": "t"])
        #expect(errorLines(missing).map { $0.components(separatedBy: ".toml:").last ?? "" } == [
            "1: webhook[0].secret_file: no webhook secret: set secret_file or provide $CREDENTIALS_DIRECTORY/webhook-secret"
        ])
    }

    @Test(arguments: [
        (0o600 as UInt32, false), (0o400, false), (0o640, true), (0o604, true), (0o644, true),
        (0o620, false), (0o602, false), (0o700, false), (0o440, true),
    ])
    func permissionWarnings(mode: UInt32, warns: Bool) {
        let token = directory.write("token", sampleToken, mode: mode_t(mode))
        let secret = directory.write("secret", sampleWebhookSecret, mode: mode_t(mode))
        let text = """
            [api]
            token_file = "\(token)"
            [[webhook]]
            url = "https://a.example"
            secret_file = "\(secret)"
            [[webhook]]
            url = "https://b.example"
            secret_file = "\(secret)"
            """ + machines
        guard let config = loaded(load(text, environment: [:])) else { return }
        let octal = String(repeating: "0", count: 4 - String(mode, radix: 8).count) + String(mode, radix: 8)
        let expected =
            warns
            ? [
                #"2: api.token_file: warning: token file "\#(token)" is readable by group or others (mode \#(octal)); restrict it with chmod 600"#,
                #"5: webhook[0].secret_file: warning: webhook secret file "\#(secret)" is readable by group or others (mode \#(octal)); restrict it with chmod 600"#,
            ] : []
        #expect(config.warnings.map { $0.description.components(separatedBy: ".toml:").last ?? "" } == expected)
    }

    @Test func tokenMustBeOneHeaderSafeWord() {
        let result = parseConfig(machines, environment: ["AKUA_API_TOKEN": "abc def\u{7}ghi"])
        #expect(errorLines(result) == [
            "c.toml:0: api.token_file: $AKUA_API_TOKEN contains spaces, control or non-ASCII characters (only visible ASCII is allowed)"
        ])
        let trimmed = parseConfig(machines, environment: ["AKUA_API_TOKEN": "  tok\r\n"])
        #expect(loaded(trimmed)?.token.reveal() == "tok")
    }

    @Test func secretsNeverAppearInDiagnosticsOrDescriptions() {
        let secretish = "S3CR3T-\(sampleToken)"
        let badSecrets = [
            secretish, "whsec_\(secretish)!", "whsec_\(secretish) x", "whsec_YWJj", "\(secretish)\u{0}",
            "whsec_" + String(repeating: "A", count: 10),
        ]
        for (offset, bad) in badSecrets.enumerated() {
            let files: [String: FileReadResult] = [
                "/t": secretFile("\(secretish) \(bad)\n", mode: 0o644),
                "/s": secretFile(bad, mode: 0o666),
            ]
            let text = "[api]\ntoken_file = \"/t\"\n[[webhook]]\nurl = \"https://x.example\"\nsecret_file = \"/s\"\n" + machines
            let result = parseConfig(text, environment: ["AKUA_API_TOKEN": bad], files: files)
            let all: [ConfigDiagnostic] =
                switch result {
                case .success(let config): config.warnings
                case .failure(let error): error.diagnostics
                }
            #expect(!all.isEmpty, "case \(offset)")
            for diagnostic in all {
                #expect(!diagnostic.description.contains("S3CR3T"), "case \(offset): \(diagnostic)")
                #expect(!diagnostic.description.contains(sampleToken), "case \(offset)")
            }
        }
        // Environment-only token that is malformed.
        let envResult = parseConfig(machines, environment: ["AKUA_API_TOKEN": "S3CR3T with space"])
        #expect(errorLines(envResult).allSatisfy { !$0.contains("S3CR3T") })

        // A good config: secrets print as <redacted> however they are printed.
        let good = parseConfig(
            "[[webhook]]\nurl = \"https://x.example\"\nsecret_file = \"/s\"\n" + machines,
            files: ["/s": secretFile(sampleWebhookSecret)])
        guard let config = loaded(good) else { return }
        var dumped = ""
        dump(config, to: &dumped)
        for text in [
            "\(config)", String(reflecting: config), dumped, "\(config.token)", String(reflecting: config.token),
            config.webhookSecrets.description, "\(config.webhookSecrets)",
        ] {
            #expect(!text.contains(sampleToken))
            #expect(!text.contains(sampleWebhookSecret))
            #expect(!text.contains("MfKQ9r8GKYqr"))
        }
        #expect("\(config.token)" == "<redacted>")
        #expect(config.token.reveal() == sampleToken)
    }

    @Test func stateDirectoryDefault() {
        #expect(loaded(parseConfig(machines))?.config.state.path == "./state.sqlite")
        let env = ["AKUA_API_TOKEN": "t", "STATE_DIRECTORY": "/var/lib/akua-driftd:/var/lib/other"]
        #expect(loaded(parseConfig(machines, environment: env))?.config.state.path == "/var/lib/akua-driftd/state.sqlite")
        #expect(loaded(parseConfig("[state]\npath = \"/srv/x.sqlite\"\n" + machines, environment: env))?.config.state.path == "/srv/x.sqlite")
    }
}
