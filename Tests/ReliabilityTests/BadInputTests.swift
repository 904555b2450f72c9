import AkuaSimulator
import DriftConfig
import DriftCore
@testable import DriftDaemon
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// Bad input: seeded generated and mutated config files through `check-config` (in-process, and a few
/// hundred through the real binary) and through reload. API response fuzzing (mutated `DriftReport`,
/// page and error bodies through the decoder and the error classifier) lives in
/// AkuaAPITests/WireDecodingTests ("decoder fuzz"); percent-encoding of machine ids with every
/// character the path allows in AkuaAPITests/PercentEncodingTests and ClientSimulatorTests
/// ("odd machine ids are percent-encoded and answered by exact id").
@Suite("Bad input: config fuzzing")
struct BadInputTests {
    static let count = 10_000

    /// Every stderr line of check-config: `FILE:LINE: key: message` (warnings: `key: warning: message`).
    static func isDiagnostic(_ line: String, file: String) -> Bool {
        guard line.hasPrefix(file + ":") else { return false }
        let rest = line.dropFirst(file.count + 1)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        return !digits.isEmpty && rest.dropFirst(digits.count).hasPrefix(": ") && rest.count > digits.count + 2
    }

    static func check(_ result: (exitCode: Int32, stdout: [String], stderr: [String]), file: String, input: [UInt8]) {
        let sample = String(decoding: input.prefix(300), as: UTF8.self).debugDescription
        #expect(result.exitCode == 0 || result.exitCode == 78, "exit \(result.exitCode) for \(sample)")
        if result.exitCode == 78 {
            #expect(!result.stderr.isEmpty && result.stdout.isEmpty, "78 without diagnostics for \(sample)")
        } else {
            #expect(result.stdout.count == 1 && result.stdout[0].hasPrefix(file + ": OK:"), "\(result.stdout) for \(sample)")
        }
        for line in result.stderr {
            #expect(isDiagnostic(line, file: file), "not a FILE:LINE: diagnostic: \(line.debugDescription) for \(sample)")
            #expect(!line.contains("\n"))
        }
    }

    @Test("regressions the fuzzer found: a date and 'T' without an hour used to crash the TOML parser", arguments: [
        "token_file = 1979-05-27T:00Z", "[api]\ntimeout = 1979-05-27T\n", "x = [1979-05-27tx]", "y = { a = 2024-02-29T }", "z = 1979-05-27T",
    ])
    func fuzzerRegressions(_ text: String) {
        let result = ConfigLoader.parse(text: text, file: "regression.toml", environment: [:])
        guard case .failure(let error) = result else {
            Issue.record("accepted \(text.debugDescription)")
            return
        }
        #expect(error.diagnostics.allSatisfy { Self.isDiagnostic($0.description, file: "regression.toml") })
    }

    @Test("10,000 generated and mutated configs through check-config: exit 0 or 78 with FILE:LINE: lines, never a crash or hang")
    func checkConfigInProcess() throws {
        let seed = ReliabilitySeed.seed("config fuzz (check-config)", default: 0xF022)
        let dir = try TemporaryDirectory("akua-reliability-fuzz")
        var fuzzer = ConfigFuzzer(seed: seed, files: try ConfigFuzzer.writeSecrets(in: dir.path), baseURL: "http://127.0.0.1:8080/v1")
        let file = dir.file("fuzz.toml")
        var outcomes: [Int32: Int] = [:]
        var slowest: (ms: Int64, index: Int) = (0, 0)
        let started = wallMs()
        for index in 0..<Self.count {
            let input = fuzzer.next()
            try Data(input).write(to: URL(fileURLWithPath: file))
            let before = wallMs()
            let result = ConfigCheck.run(path: file, environment: [:])
            let took = wallMs() - before
            if took > slowest.ms { slowest = (took, index) }
            outcomes[result.exitCode, default: 0] += 1
            Self.check(result, file: file, input: input)
        }
        print("[reliability] config fuzz: \(Self.count) files in \(wallMs() - started) ms: \(outcomes[0] ?? 0) valid, \(outcomes[78] ?? 0) rejected; slowest \(slowest.ms) ms (#\(slowest.index))")
        #expect(slowest.ms < 2_000, "one config took \(slowest.ms) ms to check")
        #expect((outcomes[0] ?? 0) >= Self.count / 50, "the generator should produce some valid configs")
        #expect((outcomes[78] ?? 0) >= Self.count / 2)
    }

    @Test("300 of them through the real akua-driftd check-config")
    func checkConfigBinary() async throws {
        let seed = ReliabilitySeed.seed("config fuzz (binary)", default: 0xF023)
        let daemon = try PackagePaths.binary("akua-driftd")
        let dir = try TemporaryDirectory("akua-reliability-fuzz-bin")
        var fuzzer = ConfigFuzzer(seed: seed, files: try ConfigFuzzer.writeSecrets(in: dir.path), baseURL: "http://127.0.0.1:8080/v1")
        let inputs = (0..<300).map { _ in fuzzer.next() }
        var environment = ProcessInfo.processInfo.environment
        environment["CREDENTIALS_DIRECTORY"] = nil
        environment["AKUA_API_TOKEN"] = nil
        environment["STATE_DIRECTORY"] = nil
        let frozen = environment
        let directory = dir.path
        // Two at a time (two cores).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<2 {
                group.addTask {
                    for index in stride(from: lane, to: inputs.count, by: 2) {
                        let file = directory + "/fuzz-\(index).toml"
                        try Data(inputs[index]).write(to: URL(fileURLWithPath: file))
                        let run = try await ChildProcess.run(
                            daemon, ["check-config", "--config", file], environment: frozen, logDirectory: directory,
                            name: "check-\(index)", timeout: .seconds(30))
                        let stdout = run.stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
                        let stderr = run.stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
                        Self.check((run.status, stdout, stderr), file: file, input: inputs[index])
                        // The binary agrees with the in-process check.
                        #expect(run.status == ConfigCheck.run(path: file, environment: frozen).exitCode)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("10,000 configs through reload: a rejected reload leaves the running config untouched")
    func reloadFuzz() async throws {
        let seed = ReliabilitySeed.seed("config fuzz (reload)", default: 0xF024)
        let dir = try TemporaryDirectory("akua-reliability-reload-fuzz")
        let simulator = try await SimulatorServer.start(options: SimulatorOptions(
            token: "sk_akua_fuzz_token", machines: ["mch_a", "mch_b", "mch_c"].map { SimulatedMachine(id: $0) }, ttlSeconds: 3_600))
        let files = try ConfigFuzzer.writeSecrets(in: dir.path)
        var fuzzer = ConfigFuzzer(seed: seed, files: files, baseURL: simulator.baseURL)
        let configPath = dir.file("config.toml")
        let base = """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(files.token)"
            [schedule]
            interval = "1h"
            catch_up_window = "1h"
            [state]
            path = "\(files.statePath)"
            [[machine]]
            id = "mch_a"
            """
        try Data(base.utf8).write(to: URL(fileURLWithPath: configPath))
        // Whatever a mutated config points at, API traffic other than loopback goes to a dead local proxy.
        let environment = ["HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"]
        let logs = LogCapture()
        let service = DaemonService(configPath: configPath, environment: environment, logger: logs.logger(level: .notice))
        func current() -> LoadedConfig? { service.current.withLock { $0?.loaded } }
        try await withRunningService(service, cleanup: { await simulator.shutdown() }) {
            try await eventually(timeout: .seconds(15), "the service is running") { current() != nil }
            var rejected = 0
            var applied = 0
            let started = wallMs()
            for index in 0..<Self.count {
                let input = fuzzer.next()
                try Data(input).write(to: URL(fileURLWithPath: configPath))
                let before = try #require(current())
                let logCount = logs.records.count
                await service.reload()
                let after = try #require(current())
                let said = logs.records.dropFirst(logCount)
                switch ConfigLoader.load(path: configPath, environment: environment) {
                case .failure(let error):
                    rejected += 1
                    #expect(after == before, "#\(index): a rejected config changed the running one")
                    let message = said.first { $0.metadata["message_id"] == JournalMessageID.configRejected }
                    #expect(message != nil, "#\(index): no 'reload rejected' journal entry")
                    if let message {
                        for diagnostic in error.diagnostics { #expect(message.message.contains(diagnostic.description)) }
                        #expect(message.message.split(separator: "\n").dropFirst().allSatisfy { Self.isDiagnostic(String($0), file: configPath) })
                    }
                case .success(let loaded):
                    if after == before, loaded != before {
                        // Refused later (say, the API client rejects the URL): also a rejected reload.
                        rejected += 1
                        #expect(said.contains { $0.metadata["message_id"] == JournalMessageID.configRejected }, "#\(index): config neither applied nor rejected")
                    } else {
                        applied += 1
                        #expect(after == loaded, "#\(index): the reloaded config is not the file's")
                    }
                }
            }
            print("[reliability] reload fuzz: \(Self.count) reloads in \(wallMs() - started) ms: \(applied) applied, \(rejected) rejected")
            #expect(rejected >= Self.count / 2 && applied >= Self.count / 50)
        }
    }
}
