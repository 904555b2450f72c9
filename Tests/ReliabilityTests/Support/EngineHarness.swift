import AkuaAPI
import AkuaSimulator
import DriftCore
import DriftDaemon
import DriftStore
import DriftTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The real wall clock plus an adjustable offset: the engine's injected clock and, when shared, the
/// simulator's, so a test can jump "the host's clock" by an hour without waiting. Elapsed time is not
/// offset: a jump is a step of the wall clock only.
final class OffsetClock: EngineClock, Sendable {
    private let offset = Atomic<Int64>(0)

    func nowMs() -> Int64 { SystemClock().nowMs() + offset.load(ordering: .relaxed) }
    func jump(byMs delta: Int64) { offset.wrappingAdd(delta, ordering: .relaxed) }
    /// Elapsed time is the host's own (CLOCK_BOOTTIME): setting the wall clock does not move it, so the
    /// engine tells a jump from time passing exactly as it does in production.
    func elapsedMs() -> Int64? { SystemClock().elapsedMs() }
    var unixSeconds: Double { Double(nowMs()) / 1000 }
}

/// Every create the engine sent, as seen from the engine's side of the wire, and how many ran at once
/// per idempotency key and per machine.
final class CallRecorder: Sendable {
    /// `GET /machines/{id}` requests made to confirm a 404.
    let confirmations = Atomic<Int>(0)
    struct Call: Sendable {
        var machineID: String
        var key: String
        /// Real wall clock (unix ms): for delays between attempts.
        var startMs: Int64
        var endMs: Int64
        /// The engine's (possibly jumped) clock at the start.
        var engineStartMs: Int64
        var report: DriftReport?
        var error: AkuaAPIError?
        var succeeded: Bool { report != nil }
    }

    private struct State {
        var calls: [Call] = []
        var activeByKey: [String: Int] = [:]
        var activeByMachine: [String: Int] = [:]
        var maxActivePerKey = 0
        var maxActivePerMachine = 0
    }

    private let state = Mutex(State())

    var calls: [Call] { state.withLock { $0.calls } }
    var maxActivePerKey: Int { state.withLock { $0.maxActivePerKey } }
    var maxActivePerMachine: Int { state.withLock { $0.maxActivePerMachine } }

    func calls(of machineID: String) -> [Call] { calls.filter { $0.machineID == machineID } }

    func begin(machineID: String, key: String) {
        state.withLock { s in
            s.activeByKey[key, default: 0] += 1
            s.activeByMachine[machineID, default: 0] += 1
            s.maxActivePerKey = max(s.maxActivePerKey, s.activeByKey[key]!)
            s.maxActivePerMachine = max(s.maxActivePerMachine, s.activeByMachine[machineID]!)
        }
    }

    func end(_ call: Call) {
        state.withLock { s in
            s.activeByKey[call.key, default: 1] -= 1
            s.activeByMachine[call.machineID, default: 1] -= 1
            s.calls.append(call)
        }
    }
}

/// A `DriftReportSource` that forwards to a real `AkuaClient` and records every call.
struct RecordingSource: DriftReportSource {
    let inner: any DriftReportSource
    let recorder: CallRecorder
    let clock: any EngineClock

    func createDriftReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> DriftReport {
        try await createSourcedReport(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger).report
    }

    func machineExists(machineID: String) async throws(AkuaAPIError) -> Bool? {
        recorder.confirmations.add(1, ordering: .relaxed)
        return try await inner.machineExists(machineID: machineID)
    }

    func createSourcedReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> SourcedReport {
        let start = wallMs()
        let engineStart = clock.nowMs()
        recorder.begin(machineID: machineID, key: idempotencyKey)
        return try await forward(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger, start: start, engineStart: engineStart)
    }

    /// The engine's entry: the clocks are read here, on the engine's queue as it starts the check, not when
    /// a task gets to run (on a loaded machine that is later, possibly after a clock jump the check predates).
    func startSourcedReport(
        machineID: String, idempotencyKey: String, trigger: String,
        completion: @escaping @Sendable (Result<SourcedReport, AkuaAPIError>) -> Void
    ) -> @Sendable () -> Void {
        let start = wallMs()
        let engineStart = clock.nowMs()
        recorder.begin(machineID: machineID, key: idempotencyKey)
        let task = Task {
            do throws(AkuaAPIError) {
                completion(.success(try await forward(
                    machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger, start: start, engineStart: engineStart)))
            } catch {
                completion(.failure(error))
            }
        }
        return { task.cancel() }
    }

    private func forward(
        machineID: String, idempotencyKey: String, trigger: String, start: Int64, engineStart: Int64
    ) async throws(AkuaAPIError) -> SourcedReport {
        do {
            let sourced = try await inner.createSourcedReport(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger)
            recorder.end(.init(machineID: machineID, key: idempotencyKey, startMs: start, endMs: wallMs(),
                               engineStartMs: engineStart, report: sourced.report, error: nil))
            return sourced
        } catch {
            recorder.end(.init(machineID: machineID, key: idempotencyKey, startMs: start, endMs: wallMs(),
                               engineStartMs: engineStart, report: nil, error: error))
            throw error
        }
    }
}

/// The real engine (`DriftEngine`, a real SQLite state file) against the in-process simulator over
/// loopback HTTP through a real `AkuaClient`, with an injectable clock and captured logs.
/// Callbacks a test sets after the harness is built; the engine gets them at `init` through this relay.
final class EngineRelay: Sendable {
    private let outboxHandler = Mutex<@Sendable () -> Void>({})
    private let checkStartedHandler = Mutex<@Sendable (Int64, Int64) -> Void>({ _, _ in })
    var onOutbox: @Sendable () -> Void {
        get { outboxHandler.withLock { $0 } }
        set { outboxHandler.withLock { $0 = newValue } }
    }
    var onCheckStarted: @Sendable (Int64, Int64) -> Void {
        get { checkStartedHandler.withLock { $0 } }
        set { checkStartedHandler.withLock { $0 = newValue } }
    }
    var callbacks: EngineCallbacks {
        EngineCallbacks(outbox: { [self] in onOutbox() }, checkStarted: { [self] in onCheckStarted($0, $1) })
    }
}

final class EngineHarness: @unchecked Sendable {
    let relay: EngineRelay
    struct Options {
        var simulated: [SimulatedMachine]
        /// Check interval per machine id (default `defaultIntervalMs`).
        var intervals: [String: Int64] = [:]
        var defaultIntervalMs: Int64 = 1_000
        var ttlSeconds: Int64 = 6
        var scheduler = SchedulerSettings(maxInFlight: 4, refreshBeforeMs: 2_000, catchUpWindowMs: 500)
        var subscriptions: [EngineSettings.Subscription] = []
        /// Where the state file goes (default: the harness' temporary directory).
        var statePath: String?
        /// Whether the simulator's clock follows the engine's (jumps included).
        var shareClock = true
        var timeout: Duration = .seconds(1)
        var seed: UInt64
        var token = "sk_akua_reliability_" + String(UInt64.random(in: 1...UInt64.max), radix: 36)
    }

    let options: Options
    let dir: TemporaryDirectory
    let clock: OffsetClock
    let simulator: SimulatorServer
    let recorder: CallRecorder
    let logs: LogCapture
    let database: AppDatabase
    let settings: EngineSettings
    let engine: DriftEngine
    private let clients: Mutex<[AkuaClient]>

    var statePath: String { database.path }
    var control: SimulatorControl { simulator.control }

    private init(options: Options, dir: TemporaryDirectory, clock: OffsetClock, simulator: SimulatorServer,
                 recorder: CallRecorder, logs: LogCapture, database: AppDatabase, settings: EngineSettings,
                 engine: DriftEngine, client: AkuaClient, relay: EngineRelay) {
        self.relay = relay
        self.options = options
        self.dir = dir
        self.clock = clock
        self.simulator = simulator
        self.recorder = recorder
        self.logs = logs
        self.database = database
        self.settings = settings
        self.engine = engine
        clients = Mutex([client])
    }

    /// Starts the simulator and (unless `autoStart` is false) the engine, runs `body`, and stops both
    /// whatever happens.
    static func run<T>(_ options: Options, autoStart: Bool = true, _ body: (EngineHarness) async throws -> T) async throws -> T {
        let harness = try await EngineHarness.make(options)
        do {
            if autoStart { try harness.start() }
            let result = try await body(harness)
            await harness.stop()
            return result
        } catch {
            await harness.stop()
            throw error
        }
    }

    private static func make(_ options: Options) async throws -> EngineHarness {
        let dir = try TemporaryDirectory("akua-reliability")
        let clock = OffsetClock()
        var simulatorOptions = SimulatorOptions(
            token: options.token, machines: options.simulated, ttlSeconds: options.ttlSeconds, seed: options.seed)
        if options.shareClock { simulatorOptions.now = { clock.unixSeconds } }
        let simulator = try await SimulatorServer.start(options: simulatorOptions)
        let logs = LogCapture()
        let recorder = CallRecorder()
        let database: AppDatabase
        let client: AkuaClient
        do {
            database = try AppDatabase.open(path: options.statePath ?? dir.file("state.sqlite"))
            client = try AkuaClient(configuration: AkuaClientConfiguration(
                baseURL: simulator.baseURL, token: options.token, timeout: options.timeout, environment: [:]),
                logger: logs.logger("akua-api"))
        } catch {
            await simulator.shutdown()
            throw error
        }
        let settings = EngineSettings(
            machines: options.simulated.map {
                EngineSettings.Machine(id: $0.id, name: $0.name, intervalMs: options.intervals[$0.id] ?? options.defaultIntervalMs)
            },
            scheduler: { var scheduler = options.scheduler
                // As the daemon does: the request timeout bounds how long an expiry waits for a check.
                scheduler.requestTimeoutMs = options.timeout.components.seconds * 1000 + options.timeout.components.attoseconds / 1_000_000_000_000_000
                return scheduler }(),
            trigger: "schedule", subscriptions: options.subscriptions)
        let relay = EngineRelay()
        let engine = DriftEngine(
            database: database, source: RecordingSource(inner: client, recorder: recorder, clock: clock),
            settings: settings, clock: clock, logger: logs.logger(), callbacks: relay.callbacks, seed: options.seed)
        let harness = EngineHarness(
            options: options, dir: dir, clock: clock, simulator: simulator, recorder: recorder, logs: logs,
            database: database, settings: settings, engine: engine, client: client, relay: relay)
        return harness
    }

    /// Starts the engine (separate from `run` so tests can wire `onOutbox` first).
    func start() throws { try engine.start() }

    func stop() async {
        await engine.stop(graceMs: 2_000)
        for client in clients.withLock({ $0 }) { await client.shutdown() }
        await simulator.shutdown()
    }

    /// A new recording source with its own client (e.g. after a token rotation).
    func makeSource(token: String) throws -> RecordingSource {
        let client = try AkuaClient(configuration: AkuaClientConfiguration(
            baseURL: simulator.baseURL, token: token, timeout: options.timeout, environment: [:]),
            logger: logs.logger("akua-api"))
        clients.withLock { $0.append(client) }
        return RecordingSource(inner: client, recorder: recorder, clock: clock)
    }

    /// Another engine over `database` (say, after a restart) with the harness' settings, clock and logs.
    func makeEngine(database: AppDatabase) throws -> DriftEngine {
        DriftEngine(database: database, source: try makeSource(token: options.token), settings: settings, clock: clock,
                    logger: logs.logger(), callbacks: relay.callbacks, seed: options.seed &+ 1)
    }

    // MARK: Observations

    /// `akua-driftd status --json` rows, by machine id.
    func rows() throws -> [String: StatusReport.Row] {
        Dictionary(uniqueKeysWithValues: StatusReport.rows(try database.machines()).map { ($0.machine_id, $0) })
    }

    func state(_ machineID: String) -> String? { (try? rows())?[machineID]?.state }

    func transitions(_ machineID: String? = nil) throws -> [Transition] {
        try database.transitions(machineID: machineID).map(\.transition)
    }

    /// Waits until every machine has a known state (in_sync or drifted).
    func waitUntilAllKnown(timeout: Duration = .seconds(20)) async throws {
        try await eventually(timeout: timeout, "every machine has a known state") {
            let rows = try rows()
            return rows.count == options.simulated.count && rows.values.allSatisfy { $0.state != "unknown" }
        }
    }
}
