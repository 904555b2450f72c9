import Foundation

/// Seeds for the suite: a fixed default per test (so CI is reproducible), overridable with
/// `AKUA_RELIABILITY_SEED=N`; always printed so that a failure can be replayed.
enum ReliabilitySeed {
    static func seed(_ test: String, default value: UInt64) -> UInt64 {
        let seed = ProcessInfo.processInfo.environment["AKUA_RELIABILITY_SEED"].flatMap { UInt64($0) } ?? value
        print("[reliability] \(test): seed \(seed) (replay with AKUA_RELIABILITY_SEED=\(seed))")
        return seed
    }
}

/// SplitMix64: a tiny, well-mixed, seedable generator (the same algorithm the simulator uses).
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range` (milliseconds and counts).
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
}

/// Unix milliseconds of the real wall clock.
func wallMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
