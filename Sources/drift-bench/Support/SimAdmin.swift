import AsyncHTTPClient
import Foundation
import NIOCore

/// The simulator's admin API (`/_sim`), from the outside.
struct SimAdmin: Sendable {
    struct Stats: Decodable, Sendable {
        var createsTotal: Int
        var requestsTotal: Int
        var conflictsTotal: Int
        var reportsByMachine: [String: Int]

        enum CodingKeys: String, CodingKey {
            case createsTotal = "creates_total"
            case requestsTotal = "requests_total"
            case conflictsTotal = "conflicts_total"
            case reportsByMachine = "reports_by_machine"
        }
    }

    /// e.g. `http://127.0.0.1:PORT/_sim`.
    let adminURL: String

    func stats() async throws -> Stats {
        var request = HTTPClientRequest(url: adminURL + "/stats")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 30)
        guard response.status == .ok else { throw BenchError("GET /_sim/stats: HTTP \(response.status.code)") }
        return try JSONDecoder().decode(Stats.self, from: Data(buffer: body))
    }
}
