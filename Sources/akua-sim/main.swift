// akua-sim: runs the Akua API simulator on a local port until SIGINT/SIGTERM.
import AkuaSimulator
import ArgumentParser
import Foundation
import Logging

/// Command-line flags. Scenario file first, then flags override/append.
struct AkuaSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "akua-sim",
        abstract: "Local simulator of Akua's machine and drift report API (with fault injection)."
    )

    @Option(help: "Listen address HOST:PORT (PORT 0 picks a free port).")
    var listen: String = "127.0.0.1:0"

    @Option(help: "Bearer token accepted on /v1.")
    var token: String?

    @Option(name: .customLong("token-file"), help: "File holding the bearer token (alternative to --token).")
    var tokenFile: String?

    @Option(help: "Comma list of fixed-state machines: ID or ID=drifted / ID=in_sync.")
    var machines: String?

    @Option(name: .customLong("machine-count"), help: "Generate N in_sync machines mch_sim_000001... (benchmarks).")
    var machineCount: Int?

    @Option(help: "Scenario JSON file (ttl_seconds, seed, faults, machines).")
    var scenario: String?

    @Option(help: "Report TTL: 900, 900s, 15m, 1h.")
    var ttl: String?

    @Option(help: "Seed for report ids, deltas and fault draws.")
    var seed: UInt64?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "warning"

    @Option(name: .customLong("latency-ms"), help: "Fault: delay added to each /v1 request.")
    var latencyMs: Int?

    @Option(name: .customLong("error-rate"), help: "Fault: probability of an error status.")
    var errorRate: Double?

    @Option(name: .customLong("error-statuses"), help: "Fault: comma list of error statuses (default 500,502,503).")
    var errorStatuses: String?

    @Option(name: .customLong("rate-limit-rate"), help: "Fault: probability of 429 with Retry-After.")
    var rateLimitRate: Double?

    @Option(name: .customLong("retry-after-seconds"), help: "Fault: Retry-After value in seconds.")
    var retryAfterSeconds: Int?

    @Flag(name: .customLong("retry-after-http-date"), help: "Fault: send Retry-After as an HTTP date.")
    var retryAfterHTTPDate = false

    @Option(name: .customLong("drop-rate"), help: "Fault: probability of closing the connection without answering.")
    var dropRate: Double?

    @Option(name: .customLong("malformed-rate"), help: "Fault: probability of a truncated JSON report.")
    var malformedRate: Double?

    @Option(name: .customLong("missing-state-rate"), help: "Fault: probability of a report without state.")
    var missingStateRate: Double?

    @Option(name: .customLong("unknown-state-rate"), help: "Fault: probability of state \"exploded\".")
    var unknownStateRate: Double?

    @Option(name: .customLong("oversized-rate"), help: "Fault: probability of a report body over 1 MiB.")
    var oversizedRate: Double?

    @Option(name: .customLong("hang-rate"), help: "Fault: probability of never answering.")
    var hangRate: Double?

    @Option(name: .customLong("fail-next"), help: "Fault: the next N drift report POSTs fail.")
    var failNext: Int?

    @Option(name: .customLong("fault-machines"), help: "Fault: comma list of machine ids faults apply to.")
    var faultMachines: String?

    @Flag(name: .customLong("sticky-bad-body"), help: "Fault: a bad body sticks to its report (replays repeat it).")
    var stickyBadBody = false

    @Option(name: .customLong("odd-fields-rate"), help: "Fault: probability of a report with optional fields omitted or null and unknown fields added.")
    var oddFieldsRate: Double?

    @Option(name: .customLong("clock-skew"), help: "Shift the simulator's clock (Date header, timestamps): SECONDS, or e.g. 90s, 5m; behind: --clock-skew=-90s.")
    var clockSkew: String?

    @Option(name: .customLong("drift-ops-status"), help: "Drift report operations answer 404, 405 or 501 (GET /machines/{id} still 200).")
    var driftOpsStatus: Int?

    @Option(help: "Require this akua-context on every /v1 request (403 otherwise).")
    var context: String?

    @Flag(name: .customLong("lenient-content-type"), help: "Accept a create body not sent as application/json (default: 415).")
    var lenientContentType = false

    /// Builds the simulator options, or throws a one-line error.
    func makeOptions() throws -> SimulatorOptions {
        var options = SimulatorOptions()
        if let scenario {
            let text: String
            do {
                text = try String(contentsOfFile: scenario, encoding: .utf8)
            } catch {
                throw SimulatorConfigError("--scenario \(scenario): cannot read file")
            }
            do {
                options = try options.applyingScenario(json: text)
            } catch {
                throw SimulatorConfigError("--scenario \(scenario): \(error.message)")
            }
        }
        if token != nil && tokenFile != nil {
            throw SimulatorConfigError("--token and --token-file are mutually exclusive")
        }
        if let token {
            options.token = token
        }
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw SimulatorConfigError("--token-file \(tokenFile): cannot read file")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw SimulatorConfigError("--token-file \(tokenFile): file is empty") }
            options.token = trimmed
        }
        if let machines {
            options.machines += try SimulatedMachine.parseList(machines)
        }
        if let machineCount {
            guard machineCount > 0 else { throw SimulatorConfigError("--machine-count: must be positive") }
            options.machines += SimulatedMachine.generated(count: machineCount)
        }
        if let ttl {
            guard let seconds = SimulatorDuration.seconds(ttl) else {
                throw SimulatorConfigError("--ttl: invalid duration \"\(ttl)\" (use e.g. 900, 900s, 15m, 1h)")
            }
            options.ttlSeconds = seconds
        }
        if let seed { options.seed = seed }
        if let clockSkew {
            guard let seconds = Self.signedSeconds(clockSkew) else {
                throw SimulatorConfigError("--clock-skew: invalid duration \"\(clockSkew)\" (use e.g. 30, -30, -90s, 5m, -1h)")
            }
            options.clockSkewSeconds = seconds
        }
        if let driftOpsStatus { options.driftOpsStatus = driftOpsStatus }
        if let context { options.requiredContext = context }
        if lenientContentType { options.strictContentType = false }
        options.faults = try applyFaultFlags(to: options.faults)
        try options.validate()
        return options
    }

    private func applyFaultFlags(to base: SimulatorFaults) throws -> SimulatorFaults {
        var faults = base
        if let latencyMs { faults.latencyMs = latencyMs }
        if let errorRate { faults.errorRate = errorRate }
        if let errorStatuses {
            let codes = errorStatuses.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !codes.isEmpty, codes.allSatisfy({ $0 != nil && (100...599).contains($0!) }) else {
                throw SimulatorConfigError("--error-statuses: expected a comma list of HTTP statuses, got \"\(errorStatuses)\"")
            }
            faults.errorStatuses = codes.compactMap { $0 }
        }
        if let rateLimitRate { faults.rateLimitRate = rateLimitRate }
        if let retryAfterSeconds { faults.retryAfterSeconds = retryAfterSeconds }
        if retryAfterHTTPDate { faults.retryAfterHTTPDate = true }
        if let dropRate { faults.dropRate = dropRate }
        if let malformedRate { faults.malformedRate = malformedRate }
        if let missingStateRate { faults.missingStateRate = missingStateRate }
        if let unknownStateRate { faults.unknownStateRate = unknownStateRate }
        if let oversizedRate { faults.oversizedRate = oversizedRate }
        if let hangRate { faults.hangRate = hangRate }
        if let failNext { faults.failNext = failNext }
        if stickyBadBody { faults.stickyBadBody = true }
        if let oddFieldsRate { faults.oddFieldsRate = oddFieldsRate }
        if let faultMachines {
            faults.machineIDs = faultMachines.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        do {
            try faults.validate(context: "faults")
        } catch {
            // Name the flag rather than the JSON field.
            let flag = error.message.replacingOccurrences(of: "faults.", with: "--").replacingOccurrences(of: "_", with: "-")
            throw SimulatorConfigError(flag)
        }
        return faults
    }

    /// Seconds of a signed duration: "0", "-30", "90s", "-5m", "1h"; nil when unparseable.
    static func signedSeconds(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "0" { return 0 }
        let negative = trimmed.hasPrefix("-")
        let magnitude = negative ? String(trimmed.dropFirst()) : trimmed
        guard let seconds = SimulatorDuration.seconds(magnitude) else { return nil }
        return negative ? -seconds : seconds
    }

    /// Splits HOST:PORT (IPv6 as [::1]:PORT).
    func listenAddress() throws -> (host: String, port: Int) {
        var host: Substring
        let portText: Substring
        if listen.hasPrefix("["), let close = listen.firstIndex(of: "]") {
            host = listen[listen.index(after: listen.startIndex)..<close]
            let rest = listen[listen.index(after: close)...]
            guard rest.hasPrefix(":") else { throw SimulatorConfigError("--listen: expected HOST:PORT, got \"\(listen)\"") }
            portText = rest.dropFirst()
        } else {
            guard let colon = listen.lastIndex(of: ":") else {
                throw SimulatorConfigError("--listen: expected HOST:PORT, got \"\(listen)\"")
            }
            host = listen[..<colon]
            portText = listen[listen.index(after: colon)...]
        }
        if host.isEmpty { host = "127.0.0.1" }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw SimulatorConfigError("--listen: invalid port in \"\(listen)\"")
        }
        return (String(host), port)
    }
}

/// Prints one error line and exits with `code`.
func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("akua-sim: \(message)\n".utf8))
    exit(code)
}

let command: AkuaSim
do {
    command = try AkuaSim.parse()
} catch {
    if AkuaSim.exitCode(for: error) == .success {
        AkuaSim.exit(withError: error)  // --help / --version
    }
    fail(AkuaSim.message(for: error), code: 2)
}

let options: SimulatorOptions
let address: (host: String, port: Int)
do {
    options = try command.makeOptions()
    address = try command.listenAddress()
} catch let error as SimulatorConfigError {
    fail(error.message, code: 2)
}
guard let level = Logger.Level(rawValue: command.logLevel) else {
    fail("--log-level: unknown level \"\(command.logLevel)\"", code: 2)
}

LoggingSystem.bootstrap(StreamLogHandler.standardError)
var logger = Logger(label: "akua-sim")
logger.logLevel = level
await serve(command: command, options: options, address: address, logger: logger)

/// Runs the simulator until SIGINT/SIGTERM (or the server stops on its own), then exits 0.
func serve(command: AkuaSim, options: SimulatorOptions, address: (host: String, port: Int), logger: Logger) async -> Never {
    // Dispatch sources keep the handlers out of the signal context.
    let (signals, signalContinuation) = AsyncStream<Int32>.makeStream()
    var signalSources: [any DispatchSourceSignal] = []
    for signo in [SIGINT, SIGTERM] {
        signal(signo, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
        source.setEventHandler { signalContinuation.yield(signo) }
        source.resume()
        signalSources.append(source)
    }

    let server: SimulatorServer
    do {
        server = try await SimulatorServer.start(host: address.host, port: address.port, options: options, logger: logger)
    } catch {
        fail("cannot listen on \(command.listen): \(error)", code: 1)
    }
    // FileHandle writes go straight to the fd: the line is flushed when this returns.
    FileHandle.standardOutput.write(Data("akua-sim listening on \(server.baseURL)\n".utf8))
    logger.info("simulating \(options.machines.count) machines", metadata: ["ttl_seconds": "\(options.ttlSeconds)"])

    let watcher = Task {
        await server.waitUntilStopped()
        signalContinuation.yield(0)
    }
    var iterator = signals.makeAsyncIterator()
    let reason = await iterator.next() ?? 0
    if reason != 0 {
        logger.info("signal \(reason), shutting down")
    }
    await server.shutdown()
    watcher.cancel()
    // The signal sources stay installed until exit, so a second signal during shutdown is absorbed.
    withExtendedLifetime(signalSources) {}
    exit(0)
}
