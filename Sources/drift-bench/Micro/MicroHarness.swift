#if canImport(Glibc)
import Glibc
#endif

/// A small benchmark harness in the spirit of ordo-one/benchmark: warm-up, then timed batches until a
/// time budget is spent; reports the median and best ns/op over the batches and, when the malloc
/// counting shim is preloaded (`bench/malloc-count.c`, see bench/bench.mk), allocations per operation.
struct MicroHarness {
    struct Result: Codable, Sendable {
        var name: String
        var iterations: Int
        var nsPerOpMedian: Double
        var nsPerOpBest: Double
        var allocationsPerOp: Double?
    }

    var warmupSeconds: Double
    var budgetSeconds: Double

    /// `body` runs `batch` operations per call (so setup can be amortised); `operationsPerCall` says how
    /// many operations one call performs.
    func measure(_ name: String, operationsPerCall: Int = 1, _ body: () throws -> Void) rethrows -> Result {
        let warmupEnd = Clocks.monotonicNs() + UInt64(warmupSeconds * 1e9)
        var calibration = 0
        while Clocks.monotonicNs() < warmupEnd || calibration < 3 {
            try body()
            calibration += 1
        }
        // Batches of about 10 ms each.
        let perCall = max(1, UInt64(warmupSeconds * 1e9) / UInt64(max(calibration, 1)))
        let callsPerBatch = max(1, Int(10_000_000 / perCall))
        var samples: [Double] = []
        var total = 0
        var allocations: UInt64 = 0
        var countedOps = 0
        let end = Clocks.monotonicNs() + UInt64(budgetSeconds * 1e9)
        repeat {
            let mallocs0 = MallocCounter.count()
            let start = Clocks.monotonicNs()
            for _ in 0..<callsPerBatch { try body() }
            let elapsed = Clocks.monotonicNs() - start
            if let m0 = mallocs0, let m1 = MallocCounter.count() {
                allocations += m1 - m0
                countedOps += callsPerBatch * operationsPerCall
            }
            samples.append(Double(elapsed) / Double(callsPerBatch * operationsPerCall))
            total += callsPerBatch * operationsPerCall
        } while Clocks.monotonicNs() < end || samples.count < 5
        samples.sort()
        return Result(
            name: name, iterations: total, nsPerOpMedian: samples[samples.count / 2], nsPerOpBest: samples[0],
            allocationsPerOp: countedOps > 0 ? Double(allocations) / Double(countedOps) : nil)
    }
}

/// Reads the malloc counter of `bench/malloc-count.so` when it is preloaded (nil otherwise).
enum MallocCounter {
    private typealias Counter = @convention(c) () -> UInt64
    private static let function: Counter? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "akua_bench_malloc_count") else { return nil }
        return unsafeBitCast(symbol, to: Counter.self)
    }()

    static var available: Bool { function != nil }
    static func count() -> UInt64? { function?() }
}

/// Keeps a value alive so the optimizer cannot drop the work that produced it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
