import AkuaAPI
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Synchronization

/// `drift-bench client-probe`: how many creates per second the daemon's HTTP client alone achieves
/// against the simulator (the same POST as the daemon, `concurrency` in flight): `AkuaClient` (request,
/// response, report decoding), then bare AsyncHTTPClient without decoding. It splits the gap between
/// the daemon and wrk into client cost and engine cost. Used by `run`.
struct ClientProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client-probe", abstract: "Throughput of the API client alone against the simulator (used by `run`).",
        shouldDisplay: false)

    @Option var url: String
    @Option var token: String
    @Option var machines: Int
    @Option var prefix: String = "mch_sim_"
    @Option var concurrency: Int = 32
    @Option var seconds: Double = 5
    @Option var out: String

    struct Result: Codable {
        var akuaClientPerSecond: Double
        var bareClientPerSecond: Double
        var errors: Int
    }

    func run() async throws {
        let nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let errors = Counter()
        let client = try AkuaClient(
            configuration: AkuaClientConfiguration(baseURL: url, token: token, timeout: .seconds(10), environment: [:]),
            logger: Logger(label: "client-probe", factory: { _ in SwiftLogNoOpLogHandler() }))
        let akua = await Self.drive(concurrency: concurrency, seconds: seconds) { worker, n in
            let id = prefix + Self.pad(1 + (n * 7919 + worker * 104_729) % machines)
            do {
                let _: CreatedDriftReport = try await client.createDriftReport(machineID: id, idempotencyKey: "v1.p.\(nonce).\(worker).\(n)", trigger: "schedule")
            } catch {
                errors.value.add(1, ordering: .relaxed)
            }
        }
        await client.shutdown()

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
        configuration.decompression = .disabled
        let bare = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let bareRate = await Self.drive(concurrency: concurrency, seconds: seconds) { worker, n in
            let id = prefix + Self.pad(1 + (n * 7919 + worker * 104_729) % machines)
            var request = HTTPClientRequest(url: url + "/machines/\(id)/drift_reports")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "akua-driftd/bench")
            request.headers.add(name: "idempotency-key", value: "v1.q.\(nonce).\(worker).\(n)")
            request.body = .bytes(ByteBuffer(string: "{\"trigger\":\"schedule\"}"))
            do {
                let response = try await bare.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                if response.status.code != 201 { errors.value.add(1, ordering: .relaxed) }
            } catch {
                errors.value.add(1, ordering: .relaxed)
            }
        }
        try await bare.shutdown()

        let result = Result(akuaClientPerSecond: akua, bareClientPerSecond: bareRate, errors: errors.value.load(ordering: .relaxed))
        try JSONEncoder().encode(result).write(to: URL(fileURLWithPath: out))
    }

    /// Runs `concurrency` loops of `operation` for `seconds` (after a 1 s warm-up); operations per second.
    static func drive(concurrency: Int, seconds: Double, _ operation: @escaping @Sendable (Int, Int) async -> Void) async -> Double {
        let measuring = Flag()
        let count = Counter()
        let warmupEnd = ContinuousClock.now + .seconds(1)
        let end = warmupEnd + .milliseconds(Int(seconds * 1000))
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var n = 0
                    while ContinuousClock.now < end {
                        await operation(worker, n)
                        n += 1
                        if measuring.value.load(ordering: .relaxed) { count.value.add(1, ordering: .relaxed) }
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(until: warmupEnd)
                measuring.value.store(true, ordering: .relaxed)
            }
        }
        return Double(count.value.load(ordering: .relaxed)) / seconds
    }

    final class Counter: Sendable { let value = Atomic<Int>(0) }
    final class Flag: Sendable { let value = Atomic<Bool>(false) }

    static func pad(_ index: Int) -> String {
        let digits = String(index)
        return digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
    }
}
