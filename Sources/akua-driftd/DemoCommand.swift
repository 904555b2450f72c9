import AkuaSimulator
import ArgumentParser
import DriftDaemon
import DriftSystemd
import DriftWebhooks
import Foundation
import Logging
import ServiceLifecycle

/// `akua-driftd demo`: the simulator, a webhook receiver and the daemon in one process, with short
/// intervals and a throwaway state file, so transitions show up in the terminal within seconds.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run the daemon against an embedded Akua API simulator and webhook receiver (Ctrl-C stops).")

    @Option(help: "Check interval of the demo machines.")
    var interval: String = "5s"

    @Option(help: "Stop by itself after this many seconds (0: run until Ctrl-C).")
    var duration: Int = 0

    func run() async throws {
        SignalMask.unblockLifecycleSignals()
        LoggingSetup.bootstrap(target: .stderr, level: .notice)
        var quiet = Logger(label: "akua-driftd.demo")
        quiet.logLevel = .error
        let emit: @Sendable (String) -> Void = { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("akua-driftd-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let token = "sk_akua_demo_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let secret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let machines = [
            SimulatedMachine(id: "mch_demo_web1", name: "web-1", scenario: .fixed(.inSync)),
            SimulatedMachine(id: "mch_demo_web2", name: "web-2", scenario: .flip(everySeconds: 12, startingWith: .inSync)),
            SimulatedMachine(id: "mch_demo_db1", name: "db-1", scenario: .flip(everySeconds: 20, startingWith: .drifted)),
            SimulatedMachine(id: "mch_demo_cache1", name: "cache-1", scenario: .random(seed: 7, driftedProbability: 0.3)),
            // Stays drifted: a reminder every repeat_interval (1 minute, the shortest allowed).
            SimulatedMachine(id: "mch_demo_batch1", name: "batch-1", scenario: .fixed(.drifted)),
        ]
        let simulator = try await SimulatorServer.start(
            options: SimulatorOptions(token: token, machines: machines, ttlSeconds: 30), logger: quiet)
        let receiver = try await DemoReceiver.start(signer: try WebhookSigner(secret: secret), print: emit)
        let slack = try await DemoReceiver.startSlack(print: emit)

        let secretPath = directory + "/webhook.secret"
        FileManager.default.createFile(atPath: secretPath, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600])
        let configPath = directory + "/config.toml"
        var config = """
            # Written by `akua-driftd demo`; see config/akua-driftd.toml for every key.
            [api]
            base_url = "\(simulator.baseURL)"
            max_in_flight = 4

            [schedule]
            interval = "\(interval)"
            refresh_before_expiry = "10s"
            catch_up_window = "2s"

            [state]
            path = "\(directory)/state.sqlite"

            [notify]
            # While a machine stays drifted or unknown, a reminder every minute (batch-1 stays drifted).
            repeat_interval = "1m"

            [[webhook]]
            name = "demo-receiver"
            url = "\(receiver.url)"
            secret_file = "\(secretPath)"

            [[webhook]]
            # The same events rendered for a Slack incoming webhook; changes within 10 s are one message.
            name = "demo-slack"
            format = "slack"
            url = "\(slack.url)"
            group_wait = "10s"

            """
        for machine in machines {
            config += "\n[[machine]]\nid = \"\(machine.id)\"\nname = \"\(machine.name)\"\n"
        }
        FileManager.default.createFile(atPath: configPath, contents: Data(config.utf8), attributes: [.posixPermissions: 0o600])

        emit("""
            akua-driftd demo
              simulator  \(simulator.baseURL)  (5 machines; web-2 flips every 12s, db-1 every 20s, cache-1 at random, batch-1 stays drifted)
              receiver   \(receiver.url)  (verifies every signature)
              slack      \(slack.url)  (a stand-in Slack incoming webhook: prints text and blocks; group_wait 10s)
              daemon     interval \(interval), repeat_interval 1m, state \(directory)/state.sqlite
            Transitions appear below (journal lines on stderr, webhook deliveries on stdout); batch-1's first
            reminder about a minute after it drifted. Ctrl-C stops.

            """)

        var environment = ProcessInfo.processInfo.environment
        environment["AKUA_API_TOKEN"] = token
        environment["CREDENTIALS_DIRECTORY"] = nil
        let logger = Logger(label: "akua-driftd")
        let service = DaemonService(configPath: configPath, environment: environment, logger: logger)
        do {
            try service.start()
        } catch {
            emit("akua-driftd demo: \(error)")
            await receiver.shutdown()
            await slack.shutdown()
            await simulator.shutdown()
            throw ExitCode(1)
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet))
        let stopper: Task<Void, Never>? = duration > 0 ? Task {
            try? await Task.sleep(for: .seconds(duration))
            await group.triggerGracefulShutdown()
        } : nil
        try await group.run()
        stopper?.cancel()
        await receiver.shutdown()
        await slack.shutdown()
        await simulator.shutdown()
        let stats = simulator.control.stats()
        emit("\ndemo stopped: \(stats.createsTotal) drift reports created for \(stats.requestsByKey.count) idempotency keys")
    }
}
