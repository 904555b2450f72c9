import ArgumentParser

/// `drift-bench`: the benchmark harness of akua-driftd (`make bench`, `make bench-smoke`).
@main
struct DriftBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift-bench",
        abstract: "Benchmarks of akua-driftd: fleets on loopback, engine lag, micro-benchmarks.",
        subcommands: [BenchRunCommand.self, MicroCommand.self, EngineProbeCommand.self, ClientProbeCommand.self, HTTPFloorCommand.self, MetricsCostCommand.self, ConfigLoadCommand.self, LargeFleetCommand.self])
}
