import DriftCore

/// `[metrics]`: the optional Prometheus listener (off unless `listen` is set).
public struct MetricsSettings: Sendable, Equatable {
    /// Where `/metrics`, `/-/healthy` and `/-/ready` are served; nil: no listener.
    public var listen: MetricsListenAddress?
    /// `allow_remote`: a non-loopback `listen` address is accepted only with this set.
    public var allowRemote: Bool
    /// `per_machine`: adds a `machine` label to `akua_driftd_machines` (one series per machine).
    public var perMachine: Bool

    public init(listen: MetricsListenAddress? = nil, allowRemote: Bool = false, perMachine: Bool = false) {
        self.listen = listen
        self.allowRemote = allowRemote
        self.perMachine = perMachine
    }
}
