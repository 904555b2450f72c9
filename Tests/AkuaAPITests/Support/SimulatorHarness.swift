import AkuaAPI
import DriftTestSupport
import AkuaSimulator
import Foundation
import Logging
import Testing

/// Starts an in-process simulator and a client pointed at it, runs `body`, and always shuts both down.
enum SimulatorHarness {
    static let token = "sk_akua_test_token_0123456789"

    static func run<T>(
        machines: [SimulatedMachine] = [SimulatedMachine(id: "mch_a", scenario: .fixed(.drifted))],
        faults: SimulatorFaults = .none,
        ttlSeconds: Int64 = 900,
        clientToken: String = SimulatorHarness.token,
        timeout: Duration = .seconds(5),
        maxResponseBytes: Int = 1 << 20,
        context: String? = nil,
        logs: LogCapture = LogCapture(),
        configure: (inout SimulatorOptions) -> Void = { _ in },
        _ body: (SimulatorServer, AkuaClient) async throws -> T
    ) async throws -> T {
        var options = SimulatorOptions(token: token, machines: machines, ttlSeconds: ttlSeconds, faults: faults)
        configure(&options)
        var serverLogger = Logger(label: "sim", factory: { _ in SwiftLogNoOpLogHandler() })
        serverLogger.logLevel = .critical
        let server = try await SimulatorServer.start(options: options, logger: serverLogger)
        let configuration = AkuaClientConfiguration(
            baseURL: server.baseURL, token: clientToken, context: context, timeout: timeout,
            maxResponseBytes: maxResponseBytes, environment: [:])
        let client: AkuaClient
        do {
            client = try AkuaClient(configuration: configuration, logger: logs.logger())
        } catch {
            await server.shutdown()
            throw error
        }
        do {
            let result = try await body(server, client)
            await client.shutdown()
            await server.shutdown()
            return result
        } catch {
            await client.shutdown()
            await server.shutdown()
            throw error
        }
    }

    /// A client against an arbitrary base URL (scripted server, closed port), shut down after `body`.
    static func withClient<T>(
        baseURL: String, token: String = SimulatorHarness.token, context: String? = nil, timeout: Duration = .seconds(5),
        maxResponseBytes: Int = 1 << 20, logs: LogCapture = LogCapture(),
        _ body: (AkuaClient) async throws -> T
    ) async throws -> T {
        let client = try AkuaClient(
            configuration: AkuaClientConfiguration(
                baseURL: baseURL, token: token, context: context, timeout: timeout, maxResponseBytes: maxResponseBytes,
                environment: [:]),
            logger: logs.logger())
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

/// The `AkuaAPIError` an operation threw, or nil when it succeeded (any other error is a test failure).
func apiError<T>(_ operation: () async throws -> T) async -> AkuaAPIError? {
    do {
        _ = try await operation()
        return nil
    } catch let error as AkuaAPIError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}
