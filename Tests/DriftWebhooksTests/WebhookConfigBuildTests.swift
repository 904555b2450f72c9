import Crypto
import DriftConfig
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import Testing

@testable import DriftWebhooks

/// Issue 9, item 9: a config `check-config` accepts always yields working webhooks in `run` and on
/// reload (same validator, same secret decoder, no trap on duplicate endpoints).
@Suite("Config to webhooks")
struct WebhookConfigBuildTests {
    static let key = (0..<32).map { UInt8(($0 * 29 + 3) % 256) }
    static var padded: String { "whsec_" + Data(key).base64EncodedString() }
    static var unpadded: String { String(padded.prefix { $0 != "=" }) }

    /// Writes a config with one webhook per URL, all signed with `secret`, and runs check-config on it.
    static func check(_ directory: TemporaryDirectory, urls: [String], secret: String) throws -> (
        check: (exitCode: Int32, stdout: [String], stderr: [String]), load: Result<LoadedConfig, ConfigError>, path: String
    ) {
        let secretPath = try directory.write("webhook.secret", secret + "\n")
        var text = "[[machine]]\nid = \"mch_a\"\n"
        for url in urls {
            text += "\n[[webhook]]\nurl = \"\(url)\"\nsecret_file = \"\(secretPath)\"\n"
        }
        let path = try directory.write("config.toml", text)
        let environment = ["AKUA_API_TOKEN": "token-for-tests"]
        return (ConfigCheck.run(path: path, environment: environment), ConfigLoader.load(path: path, environment: environment), path)
    }

    @Test("an unpadded whsec_ secret passes check-config and signs exactly like its padded form")
    func unpaddedSecret() throws {
        #expect(Self.padded.hasSuffix("=") && !Self.unpadded.hasSuffix("="))
        let directory = try TemporaryDirectory("akua-webhooks-secret")
        for secret in [Self.padded, Self.unpadded] {
            let result = try Self.check(directory, urls: ["https://hooks.example.com/a"], secret: secret)
            #expect(result.check.exitCode == 0, "\(result.check.stderr)")
            let loaded = try result.load.get()
            let endpoints = try DaemonAssembly.endpoints(loaded)
            #expect(endpoints.count == 1)
            // Oracle: HMAC-SHA256 with the key bytes Foundation decodes from the padded form.
            let body = Array(#"{"a":1}"#.utf8)
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array("evt_1.1700000000.".utf8) + body, using: SymmetricKey(data: Data(base64Encoded: String(Self.padded.dropFirst(6)))!))
            #expect(endpoints[0].signer?.signature(id: "evt_1", timestamp: 1_700_000_000, body: body) == "v1," + Data(mac).base64EncodedString())
        }
    }

    @Test("a garbage secret is a FILE:LINE config error that does not repeat it")
    func garbageSecret() throws {
        let directory = try TemporaryDirectory("akua-webhooks-garbage")
        let garbage = "whsec_R2FyYmFnZS1zZWNyZXQtdmFsdWU*"
        let result = try Self.check(directory, urls: ["https://hooks.example.com/a"], secret: garbage)
        #expect(result.check.exitCode == 78)
        #expect(result.check.stderr.count == 1)
        let line = try #require(result.check.stderr.first)
        #expect(line.hasPrefix("\(result.path):6: webhook[0].secret_file: webhook secret file "))
        #expect(line.hasSuffix(#"is not valid base64 after "whsec_""#))
        #expect(!line.contains("R2FyYmFnZS1zZWNyZXQtdmFsdWU"))
    }

    @Test("two webhooks with the same URL are rejected, also when only the host's case differs")
    func duplicateURL() throws {
        let directory = try TemporaryDirectory("akua-webhooks-duplicate")
        let result = try Self.check(
            directory, urls: ["https://hooks.example.com/a", "HTTPS://Hooks.Example.COM/a"], secret: Self.padded)
        #expect(result.check.exitCode == 78)
        #expect(result.check.stderr == [
            #"\#(result.path):9: webhook[1].url: duplicate webhook URL "https://hooks.example.com/a" (first defined at line 5)"#
        ])
    }

    @Test("a dispatcher given two endpoints with one URL uses one loop and does not trap")
    func dispatcherWithDuplicateEndpoints() throws {
        let signer = WebhookSigner(key: Self.key)
        let endpoints = (0..<2).map { index in
            WebhookEndpoint(
                url: "https://hooks.example.com/a", name: "copy-\(index)", signer: signer,
                events: Set(DriftState.allCases), timeoutMs: 1_000)
        }
        let logs = LogCapture()
        let dispatcher = WebhookDispatcher(
            endpoints: endpoints, database: try AppDatabase.inMemory(), userAgent: "test", logger: logs.logger())
        #expect(dispatcher.endpoints.map(\.label) == ["copy-0"])
        #expect(logs.records.contains { $0.level == .error && $0.message.contains("copy-1") })
    }

    /// Seeded configs with random webhook URL spellings and secret forms: whatever check-config accepts
    /// builds its endpoints and a dispatcher with one distinct endpoint per webhook.
    @Test("every accepted config builds its webhooks", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func acceptedConfigsBuild(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let directory = try TemporaryDirectory("akua-webhooks-property")
        let hosts = ["hooks.example.com", "HOOKS.example.com", "127.0.0.1", "[::1]", "localhost", "other.example.org"]
        let paths = ["", "/", "/a", "/a/", "/A", "/a/b"]
        let ports = ["", ":443", ":8443"]
        let secrets = [Self.padded, Self.unpadded, "whsec_c2hvcnQ=", "whsec_" + String(repeating: "A", count: 22), "nope"]
        var accepted = 0
        for round in 0..<40 {
            let urls = (0..<(1 + Int(random.next() % 4))).map { _ in
                let host = pick(hosts)
                let scheme = host.contains(".example.") ? pick(["https", "HTTPS"]) : pick(["http", "https"])
                return "\(scheme)://\(host)\(pick(ports))\(pick(paths))"
            }
            let result = try Self.check(directory, urls: urls, secret: pick(secrets))
            guard case .success(let loaded) = result.load else {
                #expect(result.check.exitCode == 78, "round \(round): load failed but check-config said \(result.check.exitCode)")
                continue
            }
            accepted += 1
            #expect(result.check.exitCode == 0, "round \(round)")
            let endpoints = try DaemonAssembly.endpoints(loaded)
            #expect(Set(endpoints.map(\.id)).count == endpoints.count, "round \(round): \(urls)")
            let dispatcher = WebhookDispatcher(
                endpoints: endpoints, database: try AppDatabase.inMemory(), userAgent: "test",
                logger: Logger(label: "test"))
            #expect(dispatcher.endpoints.count == loaded.config.webhooks.count, "round \(round)")
        }
        #expect(accepted > 0, "seed \(seed) produced no valid config: the property was not exercised")
    }
}
