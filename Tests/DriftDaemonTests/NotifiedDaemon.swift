import AkuaSimulator
import DriftSystemd
import DriftTestSupport
import Foundation
import Logging
import Testing

/// The real `akua-driftd run` process against an in-process simulator, with a `NOTIFY_SOCKET` of the
/// test's own (a `NotifyListener`, the same code the benchmark harness uses): the service manager's view
/// of the daemon, every datagram timestamped with CLOCK_MONOTONIC on arrival.
final class NotifiedDaemon: @unchecked Sendable {
    static let token = "sk_akua_lifecycle_7d1c3b9a"

    let directory: TemporaryDirectory
    let simulator: SimulatorServer
    let notify: NotifyListener
    let configPath: String
    let statePath: String
    let tokenFile: String
    private(set) var process: ChildProcess?

    /// Starts the simulator with `machines` (ids) and writes a config for them; the daemon is started by `start`.
    init(machines: [String], faults: SimulatorFaults = .none, interval: String = "1s", timeout: String = "30s") async throws {
        directory = try TemporaryDirectory("akua-driftd-lifecycle")
        var logger = Logger(label: "sim")
        logger.logLevel = .error
        simulator = try await SimulatorServer.start(
            options: SimulatorOptions(
                token: Self.token, machines: machines.map { SimulatedMachine(id: $0, name: $0, scenario: .fixed(.inSync)) },
                ttlSeconds: 3600, faults: faults),
            logger: logger)
        notify = try NotifyListener(path: directory.file("notify.sock"))
        tokenFile = try directory.write("token", Self.token)
        statePath = directory.file("state.sqlite")
        configPath = directory.file("config.toml")
        try writeConfig(machines: machines, interval: interval, timeout: timeout)
    }

    func writeConfig(machines: [String], interval: String = "1s", timeout: String = "30s") throws {
        _ = try directory.write("config.toml", """
            [api]
            base_url = "\(simulator.baseURL)"
            token_file = "\(tokenFile)"
            timeout = "\(timeout)"
            max_in_flight = 8
            [schedule]
            interval = "\(interval)"
            catch_up_window = "1s"
            [state]
            path = "\(statePath)"
            """ + machines.map { "\n[[machine]]\nid = \"\($0)\"\nname = \"\($0)\"" }.joined() + "\n")
    }

    /// Starts `akua-driftd run` with `environment` added to NOTIFY_SOCKET and waits (bounded) for READY=1.
    @discardableResult
    func start(environment extra: [String: String] = [:]) async throws -> NotifyListener.Message {
        var environment = ["PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": notify.path]
        environment.merge(extra) { $1 }
        let cursor = notify.count
        let child = try ChildProcess(
            try PackagePaths.binary("akua-driftd"), ["run", "--config", configPath, "--log-target", "stderr"],
            environment: environment, logDirectory: directory.path, name: "akua-driftd")
        process = child
        return try await next(after: cursor, "READY=1 after start", timeout: 60) { $0.has("READY=1") }.message
    }

    /// The first notification at index >= `after` matching `match`, failing the test after `timeout` seconds.
    func next(
        after cursor: Int, _ what: String, timeout: Double = 30, where match: (NotifyListener.Message) -> Bool
    ) async throws -> (index: Int, message: NotifyListener.Message) {
        if let found = await notify.next(after: cursor, timeout: timeout, where: match) { return found }
        let received = notify.messages(from: cursor).map { $0.text.replacingOccurrences(of: "\n", with: " | ") }
        Issue.record("""
            timed out after \(timeout) s waiting for \(what); received since: \(received.suffix(20))
            daemon stderr:
            \(process?.stderr.suffix(3000) ?? "")
            """)
        throw HarnessError("no \(what)")
    }

    func signal(_ signal: Int32) { process?.signal(signal) }

    /// Stops the daemon (SIGTERM, bounded wait) and everything else the test started.
    func shutdown() async {
        if let process, process.isRunning {
            process.signal(SIGTERM)
            _ = try? await process.waitForExit(timeout: .seconds(30))
        }
        process = nil  // deinit kills a process that did not exit
        notify.close()
        await simulator.shutdown()
    }

    var stderr: String { process?.stderr ?? "" }

    /// CLOCK_MONOTONIC now, in nanoseconds (the clock of `NotifyListener.Message.at`).
    static func monotonicNs() -> UInt64 { NotifyListener.monotonicNs() }
}

extension NotifyListener.Message {
    /// Seconds from `self` to `later`.
    func seconds(to later: UInt64) -> Double { Double(Int64(bitPattern: later &- at)) / 1e9 }
}
