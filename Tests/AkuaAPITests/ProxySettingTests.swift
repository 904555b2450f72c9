import Testing

@testable import DriftProxy

@Suite("Proxy from the environment")
struct ProxySettingTests {
    func proxy(_ env: [String: String], scheme: String = "https", host: String = "api.akua.dev") throws -> ProxySetting? {
        try ProxySetting.from(environment: env, targetScheme: scheme, targetHost: host)
    }

    @Test("scheme-specific variables, lower case first")
    func variables() throws {
        #expect(try proxy([:]) == nil)
        #expect(try proxy(["HTTPS_PROXY": "http://p:3128"])?.description == "http://p:3128")
        #expect(try proxy(["https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:2"])?.host == "low")
        #expect(try proxy(["HTTP_PROXY": "http://p:3128"]) == nil)
        #expect(try proxy(["http_proxy": "p.example:8080"], scheme: "http")?.port == 8080)
        #expect(try proxy(["HTTPS_PROXY": "http://p"])?.port == 80)
        #expect(try proxy(["HTTPS_PROXY": "socks5://s"]) == ProxySetting(kind: .socks5, host: "s", port: 1080))
    }

    @Test("credentials are decoded and never described")
    func credentials() throws {
        let setting = try #require(try proxy(["HTTPS_PROXY": "http://us%40er:p%3Ass@p:3128"]))
        #expect(setting.username == "us@er")
        #expect(setting.password == "p:ss")
        #expect(!setting.description.contains("p:ss") && !setting.description.contains("us"))
    }

    @Test("unsupported proxies are configuration errors")
    func unsupported() {
        #expect(throws: ProxySettingError.self) { try proxy(["HTTPS_PROXY": "https://p:443"]) }
        #expect(throws: ProxySettingError.self) { try proxy(["HTTPS_PROXY": "socks5://u:p@s"]) }
        #expect(throws: ProxySettingError.self) { try proxy(["HTTPS_PROXY": "http://p:99999"]) }
    }

    @Test("NO_PROXY and loopback bypass the proxy", arguments: [
        ("api.akua.dev", "akua.dev"), ("api.akua.dev", ".akua.dev"), ("api.akua.dev", "*.akua.dev"),
        ("api.akua.dev", "other, api.akua.dev:443"), ("api.akua.dev", "*"), ("10.1.2.3", "10.0.0.0/8"),
        ("10.1.2.3", "10.1.2.3"), ("127.0.0.1", ""), ("127.9.9.9", ""), ("localhost", ""), ("::1", ""),
        ("[::1]", ""), ("fd00::5", "fd00::/8"), ("API.AKUA.DEV", "akua.dev"),
    ])
    func bypass(host: String, noProxy: String) {
        #expect(ProxySetting.bypasses(host: host, noProxy: noProxy))
    }

    @Test("other hosts still use the proxy", arguments: [
        ("api.akua.dev", ""), ("api.akua.dev", "kua.dev"), ("api.akua.dev", "akua.dev.evil"), ("11.1.2.3", "10.0.0.0/8"),
        ("notakua.dev", ".akua.dev"), ("128.0.0.1", ""), ("fe00::5", "fd00::/8"),
    ])
    func noBypass(host: String, noProxy: String) {
        #expect(!ProxySetting.bypasses(host: host, noProxy: noProxy))
    }

    @Test("no_proxy in the environment is honoured")
    func environmentNoProxy() throws {
        #expect(try proxy(["HTTPS_PROXY": "http://p:1", "NO_PROXY": "akua.dev"]) == nil)
        #expect(try proxy(["HTTPS_PROXY": "http://p:1", "no_proxy": "akua.dev"]) == nil)
        #expect(try proxy(["HTTPS_PROXY": "http://p:1"], host: "127.0.0.1") == nil)
    }
}
