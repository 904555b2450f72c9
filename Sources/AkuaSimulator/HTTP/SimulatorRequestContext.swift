import Hummingbird
import NIOCore

/// Request context that keeps the connection's channel, so faults can close it (drop, hang) and
/// admin routes can check the peer is on loopback.
struct SimulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
