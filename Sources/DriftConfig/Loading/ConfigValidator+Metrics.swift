import DriftCore
import TOMLKit

extension ConfigValidator {
    /// `[metrics]`: `listen` must parse, and may name a non-loopback address only with `allow_remote = true`.
    mutating func validateMetrics(_ table: TOMLTable) -> MetricsSettings {
        let path: TOMLPath = [.key("metrics")]
        checkKeys(table, path: path, known: ConfigSchema.metrics)
        var metrics = MetricsSettings()
        metrics.allowRemote = bool(table, path, "allow_remote") ?? false
        metrics.perMachine = bool(table, path, "per_machine") ?? false
        if let text = string(table, path, "listen") {
            switch MetricsListenAddress.parse(text) {
            case .failure(let error):
                sink.error(path.appending("listen"), error.message)
            case .success(let address):
                if !address.isLocal && !metrics.allowRemote {
                    sink.error(
                        path.appending("listen"),
                        "\(address) is not a loopback address; metrics are unauthenticated, so set allow_remote = true to serve them beyond this host")
                } else {
                    metrics.listen = address
                }
            }
        }
        return metrics
    }
}
