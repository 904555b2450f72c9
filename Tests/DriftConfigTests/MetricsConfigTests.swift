import DriftCore
import Foundation
import Testing

@testable import DriftConfig

/// `[metrics]`: the listener is off by default, takes a loopback HOST:PORT or a unix socket path, and
/// refuses a non-loopback address unless `allow_remote = true` (with `FILE:LINE: key:` errors).
@Suite struct MetricsConfigTests {
    let directory = TempDirectory()
    let environment = ["AKUA_API_TOKEN": sampleToken]
    static let machine = "\n[[machine]]\nid = \"mch_1\"\n"

    private func load(_ text: String) -> Result<LoadedConfig, ConfigError> {
        ConfigLoader.load(path: directory.write("config.toml", text + Self.machine), environment: environment)
    }

    private func errors(_ text: String) -> [String] {
        guard case .failure(let error) = load(text) else { return [] }
        return error.diagnostics.map(\.description)
    }

    @Test func offByDefault() throws {
        let config = try load("").get().config
        #expect(config.metrics.listen == nil)
        #expect(!config.metrics.perMachine)
    }

    @Test(arguments: [
        ("127.0.0.1:9464", MetricsListenAddress.tcp(host: "127.0.0.1", port: 9464)),
        ("[::1]:9464", .tcp(host: "::1", port: 9464)),
        ("localhost:1", .tcp(host: "localhost", port: 1)),
        ("/run/akua-driftd/metrics.sock", .unix(path: "/run/akua-driftd/metrics.sock")),
    ])
    func loopbackAndUnixSockets(text: String, expected: MetricsListenAddress) throws {
        let config = try load("[metrics]\nlisten = \"\(text)\"\nper_machine = true\n").get().config
        #expect(config.metrics.listen == expected)
        #expect(config.metrics.perMachine)
    }

    @Test func remoteAddressNeedsAllowRemote() throws {
        let path = directory.path + "/config.toml"
        #expect(errors("[metrics]\nlisten = \"0.0.0.0:9464\"\n") == [
            "\(path):2: metrics.listen: 0.0.0.0:9464 is not a loopback address; metrics are unauthenticated, so set allow_remote = true to serve them beyond this host",
        ])
        let config = try load("[metrics]\nlisten = \"0.0.0.0:9464\"\nallow_remote = true\n").get().config
        #expect(config.metrics.listen == .tcp(host: "0.0.0.0", port: 9464))
    }

    @Test func badValuesAreReportedWithTheirLine() {
        let path = directory.path + "/config.toml"
        #expect(errors("[metrics]\n\nlisten = \"127.0.0.1:99999\"\n") == ["\(path):3: metrics.listen: the port must be 1-65535, got \"99999\""])
        #expect(errors("[metrics]\nlisten = \"9464\"\n") == [
            "\(path):2: metrics.listen: expected HOST:PORT (e.g. 127.0.0.1:9464) or an absolute unix socket path",
        ])
        #expect(errors("[metrics]\nlisten = 9464\n") == ["\(path):2: metrics.listen: expected a string, got integer"])
        #expect(errors("[metrics]\nper_machine = \"yes\"\n") == ["\(path):2: metrics.per_machine: expected a boolean (true or false), got string"])
        #expect(errors("[metrics]\nlisten_on = \"127.0.0.1:9464\"\n").first?.hasPrefix("\(path):2: metrics.listen_on: unknown key") == true)
    }
}
