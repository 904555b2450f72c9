import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A local, faithful simulator of Akua's machine and drift report API, served over real HTTP.
///
/// Public API (used in-process by the daemon's demo, integration/chaos tests and benchmarks):
/// ```swift
/// public struct SimulatorOptions: Sendable {          // every field has a default
///     public var token: String                        // SimulatorOptions.defaultToken
///     public var machines: [SimulatedMachine]         // []
///     public var ttlSeconds: Int64                    // 900
///     public var seed: UInt64                         // 1
///     public var faults: SimulatorFaults              // .none
///     public var now: @Sendable () -> Double          // SimulatorOptions.wallClock (unix seconds with fraction)
///     public var reportHistoryLimit: Int              // 1000 reports kept per machine
///     public var idempotencyTTLSeconds: Int64         // 86_400
///     public var workspaceID: String                  // "ws_sim_local"
///     public func applyingScenario(json: String) throws(SimulatorConfigError) -> SimulatorOptions
///     public func validate() throws(SimulatorConfigError)
/// }
/// public struct SimulatedMachine { init(id: String, name: String? = nil, scenario: MachineScenario = .fixed(.inSync),
///                                       clusterID: String = "cls_sim_default") }
/// public enum MachineScenario { case fixed(ReportStateName), flip(everySeconds: Double, startingWith: ReportStateName),
///                               random(seed: UInt64, driftedProbability: Double) }
/// public enum ReportStateName: String { case inSync = "in_sync", drifted }
/// public struct SimulatorFaults { latencyMs, errorRate, errorStatuses, rateLimitRate, retryAfterSeconds,
///                                 retryAfterHTTPDate, dropRate, malformedRate, missingStateRate, unknownStateRate,
///                                 oversizedRate, hangRate, failNext, machineIDs; static let none }
/// public final class SimulatorServer: Sendable {
///     public static func start(host: String = "127.0.0.1", port: Int = 0, options: SimulatorOptions,
///                              logger: Logger = <no-op>) async throws -> SimulatorServer
///     public let port: Int
///     public var baseURL: String            // "http://127.0.0.1:PORT/v1"
///     public var adminURL: String           // "http://127.0.0.1:PORT/_sim"
///     public let control: SimulatorControl
///     public func shutdown() async          // idempotent
///     public func waitUntilStopped() async
/// }
/// public struct SimulatorControl {          // same operations as the /_sim endpoints, in-process
///     func setState(_: ReportStateName, machineID: String) throws(SimulatorControlError)
///     func addMachine(_: SimulatedMachine) throws(SimulatorControlError)
///     func deleteMachine(id: String) throws(SimulatorControlError)
///     func setFaults(_: SimulatorFaults) throws(SimulatorControlError)
///     func faults() -> SimulatorFaults
///     func setToken(_: String)
///     func setTTL(seconds: Int64)
///     func stats() -> SimulatorStats        // createsTotal, requestsTotal, reportsByMachine, requestsByKey,
/// }                                         // reportsByKey, conflictsTotal, faultsByKind
/// ```
/// The Hummingbird application runs in a task inside a `ServiceGroup` without signal handlers (the
/// caller owns signals). `shutdown()` releases hung requests, shuts the server down gracefully
/// (cancelling after 3 s) and returns once the listener is closed.
public final class SimulatorServer: Sendable {
    /// The bound port (useful when started with port 0).
    public let port: Int
    /// The host the server is bound to.
    public let host: String
    /// In-process admin operations.
    public let control: SimulatorControl

    private let state: SimulatorState
    private let hangs: HangRegistry
    private let serviceGroup: ServiceGroup
    private let runTask: Task<Void, Never>

    /// Akua API base URL, e.g. `http://127.0.0.1:PORT/v1`.
    public var baseURL: String { "http://\(urlHost):\(port)/v1" }
    /// Admin base URL, e.g. `http://127.0.0.1:PORT/_sim`.
    public var adminURL: String { "http://\(urlHost):\(port)/_sim" }

    private var urlHost: String { host.contains(":") ? "[\(host)]" : host }

    private init(
        port: Int, host: String, state: SimulatorState, hangs: HangRegistry,
        serviceGroup: ServiceGroup, runTask: Task<Void, Never>
    ) {
        self.port = port
        self.host = host
        self.state = state
        self.hangs = hangs
        self.control = SimulatorControl(state: state)
        self.serviceGroup = serviceGroup
        self.runTask = runTask
    }

    /// Binds `host:port` (0 picks a free port) and returns once the server accepts connections.
    /// Throws `SimulatorConfigError` for invalid options, or the bind error.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        options: SimulatorOptions,
        logger: Logger = Logger(label: "akua-sim", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> SimulatorServer {
        try options.validate()
        let state = SimulatorState(options: options)
        let hangs = HangRegistry()
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let dateClock = DateHeaderClock(now: { state.now() })
        let app = Application(
            responder: SimulatorResponder(state: state, hangs: hangs),
            server: .http1(configuration: .init(additionalChannelHandlers: [DateHeaderHandler(clock: dateClock)])),
            configuration: .init(address: .hostname(host, port: port), serverName: nil, backlog: 1024, reuseAddress: true),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? port)
                portContinuation.finish()
            },
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(3)
        let serviceGroup = ServiceGroup(configuration: configuration)
        let failure = Mutex<(any Error)?>(nil)
        let runTask = Task {
            do {
                try await serviceGroup.run()
            } catch {
                failure.withLock { $0 = error }
            }
            portContinuation.finish()
        }
        var iterator = portStream.makeAsyncIterator()
        guard let boundPort = await iterator.next() else {
            await runTask.value
            let error = failure.withLock { $0 }
            throw error ?? SimulatorConfigError("akua-sim: server stopped before it was listening on \(host):\(port)")
        }
        return SimulatorServer(port: boundPort, host: host, state: state, hangs: hangs, serviceGroup: serviceGroup, runTask: runTask)
    }

    /// Stops the server: releases hung requests, closes the listener and connections, waits for the run task.
    /// Safe to call more than once.
    public func shutdown() async {
        hangs.releaseAll()
        await serviceGroup.triggerGracefulShutdown()
        await runTask.value
    }

    /// Waits until the server stops (after `shutdown()` or a fatal server error).
    public func waitUntilStopped() async {
        await runTask.value
    }
}
