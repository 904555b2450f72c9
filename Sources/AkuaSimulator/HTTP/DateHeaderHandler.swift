import Hummingbird
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Stamps every response head with the simulator's own `Date` (its skewed clock), replacing the wall-clock
/// `Date` Hummingbird sets. It sits in the channel pipeline because Hummingbird writes its header after the
/// responder returns.
final class DateHeaderHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let clock: DateHeaderClock

    init(clock: DateHeaderClock) {
        self.clock = clock
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        head.headerFields[.date] = clock.header()
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}

/// The `Date` value for the simulator's clock, formatted once per second.
final class DateHeaderClock: Sendable {
    private let now: @Sendable () -> Double
    private let cache = Mutex<(second: Int64, text: String)>((Int64.min, ""))

    init(now: @escaping @Sendable () -> Double) {
        self.now = now
    }

    func header() -> String {
        let second = Int64(now().rounded(.down))
        return cache.withLock { cached in
            if cached.second != second { cached = (second, HTTPDate.format(unixSeconds: second)) }
            return cached.text
        }
    }
}
