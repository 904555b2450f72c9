import Synchronization
import WebhookReceiver

/// A loopback receiver whose answers to the `holding` machines' requests wait until `release(machine)`, so
/// a test knows a delivery is in flight. It answers `statuses[machine]` (default 204) and keeps the machine
/// and body of every request in arrival order.
final class HoldingReceiver: Sendable {
    private struct State {
        var arrivals: [(machine: String, body: [UInt8])] = []
        var released: Set<String> = []
        var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
    }
    private final class Shared: Sendable {
        let state = Mutex(State())
    }
    private let server: LoopbackWebhookServer
    private let shared: Shared
    var url: String { server.url }

    private init(server: LoopbackWebhookServer, shared: Shared) {
        self.server = server
        self.shared = shared
    }

    static func start(holding: Set<String>, statuses: [String: Int] = [:]) async throws -> HoldingReceiver {
        let shared = Shared()
        let server = try await LoopbackWebhookServer.start { request in
            let text = String(decoding: request.body, as: UTF8.self)
            let machine = Self.machine(in: text)
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let hold = shared.state.withLock { state -> Bool in
                    state.arrivals.append((machine, request.body))
                    guard holding.contains(machine), !state.released.contains(machine) else { return false }
                    state.waiting[machine, default: []].append(continuation)
                    return true
                }
                if !hold { continuation.resume() }
            }
            return .init(status: statuses[machine] ?? 204)
        }
        return HoldingReceiver(server: server, shared: shared)
    }

    /// The `mch_…` id in a payload (the test's machines are named `mch_` plus letters).
    private static func machine(in text: String) -> String {
        guard let range = text.range(of: "\"mch_") else { return "" }
        let rest = text[text.index(after: range.lowerBound)...]
        return String(rest.prefix { $0 != "\"" })
    }

    /// Lets the held requests of `machine` (and later ones) be answered.
    func release(_ machine: String) {
        let waiting = shared.state.withLock { state in
            state.released.insert(machine)
            return state.waiting.removeValue(forKey: machine) ?? []
        }
        for continuation in waiting { continuation.resume() }
    }

    func arrived(_ machine: String) -> Int { shared.state.withLock { $0.arrivals.filter { $0.machine == machine }.count } }
    var total: Int { shared.state.withLock { $0.arrivals.count } }
    func bodies(_ machine: String) -> [[UInt8]] { shared.state.withLock { $0.arrivals.filter { $0.machine == machine }.map(\.body) } }

    func shutdown() async {
        for machine in shared.state.withLock({ Array($0.waiting.keys) }) { release(machine) }
        await server.shutdown()
    }
}
