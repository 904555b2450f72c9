/// A drift report state as Akua reports it on the wire (`DriftReport.state`).
public enum ReportStateName: String, Sendable, Hashable, Codable, CaseIterable {
    case inSync = "in_sync"
    case drifted = "drifted"

    /// The other state (used by flip scenarios).
    public var flipped: ReportStateName { self == .inSync ? .drifted : .inSync }
}

/// How a simulated machine's drift state evolves over time.
public enum MachineScenario: Sendable, Hashable {
    /// Always the same state.
    case fixed(ReportStateName)
    /// Alternates every `everySeconds` since the simulator started, beginning with `startingWith`:
    /// state = startingWith when floor((now - start) / everySeconds) is even, else the other one.
    case flip(everySeconds: Double, startingWith: ReportStateName)
    /// Each new report is drifted with probability `driftedProbability`, from a per-machine RNG seeded with `seed`.
    case random(seed: UInt64, driftedProbability: Double)
}

/// A machine known to the simulator.
public struct SimulatedMachine: Sendable, Hashable {
    /// Akua machine id (1-54 characters), e.g. `mch_a`.
    public var id: String
    /// Human-readable machine name (defaults to the id).
    public var name: String
    /// How its drift state evolves.
    public var scenario: MachineScenario
    /// Cluster the machine belongs to (for the `cluster_id` list filter).
    public var clusterID: String

    public init(
        id: String,
        name: String? = nil,
        scenario: MachineScenario = .fixed(.inSync),
        clusterID: String = SimulatedMachine.defaultClusterID
    ) {
        self.id = id
        self.name = name ?? id
        self.scenario = scenario
        self.clusterID = clusterID
    }

    /// The cluster id used when none is given.
    public static let defaultClusterID = "cls_sim_default"

    /// `count` fixed in_sync machines with ids `mch_sim_000001`... (for benchmarks).
    public static func generated(count: Int) -> [SimulatedMachine] {
        guard count > 0 else { return [] }
        return (1...count).map { index in
            let digits = String(index)
            let padded = digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
            return SimulatedMachine(id: "mch_sim_" + padded, name: "sim-" + padded)
        }
    }

    /// Parses the `--machines` flag: `ID,ID=drifted,ID=in_sync` (fixed states, in_sync by default).
    public static func parseList(_ text: String) throws(SimulatorConfigError) -> [SimulatedMachine] {
        var machines: [SimulatedMachine] = []
        for rawItem in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(rawItem).trimmingSpaces()
            guard !item.isEmpty else { throw SimulatorConfigError("--machines: empty machine id in \"\(text)\"") }
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            var state = ReportStateName.inSync
            if parts.count == 2 {
                guard let parsed = ReportStateName(rawValue: parts[1]) else {
                    throw SimulatorConfigError("--machines: unknown state \"\(parts[1])\" for \(parts[0]) (expected in_sync or drifted)")
                }
                state = parsed
            }
            machines.append(SimulatedMachine(id: parts[0], scenario: .fixed(state)))
        }
        return machines
    }
}

/// A configuration problem (bad flag, bad scenario file, invalid machine): one human-readable line.
public struct SimulatorConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
