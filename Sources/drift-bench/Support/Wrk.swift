/// The raw ceiling of the simulator's create endpoint, measured by `wrk` with `bench/wrk-create.lua`.
enum Wrk {
    struct Result: Codable, Sendable {
        var threads: Int
        var connections: Int
        var seconds: Double
        var requestsPerSecond: Double
        var non2xx: Int
        var errors: String?
    }

    static var executable: String? {
        (["/usr/bin/wrk", "/usr/local/bin/wrk"] as [String]).first { access($0, X_OK) == 0 }
    }

    static func run(
        baseURL: String, script: String, token: String, machines: Int, prefix: String,
        threads: Int, connections: Int, seconds: Double, workDirectory: String
    ) async throws -> Result {
        guard let wrk = executable else { throw BenchError("wrk is not installed (apt-get install wrk)") }
        let url = baseURL.hasSuffix("/v1") ? String(baseURL.dropLast(3)) : baseURL
        let nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let child = try ChildProcess(
            wrk, ["-t", String(threads), "-c", String(connections), "-d", "\(Int(seconds.rounded(.up)))s", "--latency", "-s", script, url],
            environment: ["BENCH_TOKEN": token, "BENCH_MACHINES": String(machines), "BENCH_PREFIX": prefix, "BENCH_NONCE": nonce, "PATH": "/usr/bin:/bin"],
            logDirectory: workDirectory, name: "wrk-t\(threads)-c\(connections)-\(nonce)")
        guard let exit = await child.waitForExit(timeout: seconds + 30) else {
            child.kill9()
            throw BenchError("wrk did not finish")
        }
        let output = child.stdout
        guard exit.status == 0, let rate = number(after: "Requests/sec:", in: output) else {
            throw BenchError("wrk failed (exit \(exit.status)): \(output) \(child.stderrTail())")
        }
        let non2xx = Int(number(after: "Non-2xx or 3xx responses:", in: output) ?? 0)
        let errors = output.split(separator: "\n").first { $0.contains("Socket errors:") }.map(String.init)
        return Result(threads: threads, connections: connections, seconds: seconds, requestsPerSecond: rate, non2xx: non2xx, errors: errors)
    }

    private static func number(after label: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") {
            guard let range = line.range(of: label) else { continue }
            return Double(line[range.upperBound...].trimmingPrefix(while: { $0 == " " }).prefix { $0.isNumber || $0 == "." })
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension Substring {
    fileprivate func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring {
        drop(while: predicate)
    }
}
