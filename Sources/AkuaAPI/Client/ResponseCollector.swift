import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Collects one response on its event loop for `AsyncHTTPClient.execute(request:delegate:)`: a success
/// body up to the client's cap (beyond it the request fails with `BodyTooLarge`), an error body up to
/// 64 KiB (beyond that it is dropped: error bodies only feed the classification).
final class ResponseCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = AkuaClient.RawResponse

    /// A success body passed the cap.
    struct BodyTooLarge: Error {}

    /// Error bodies beyond this are dropped rather than collected.
    static let errorBodyCap = 64 * 1024

    private let endpoint: AkuaEndpoint
    private let maxBytes: Int
    private let secrets: [String]
    // Touched only on the request's event loop (AsyncHTTPClient calls a delegate there, in order).
    private var status = 0
    private var headers = HTTPHeaders()
    private var body = ByteBuffer()
    private var dropped = false

    init(endpoint: AkuaEndpoint, maxBytes: Int, secrets: [String]) {
        self.endpoint = endpoint
        self.maxBytes = maxBytes
        self.secrets = secrets
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = Int(head.status.code)
        headers = head.headers
        // A declared length beyond the cap fails (or is dropped) at once, without reading the body.
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init) {
            let success = (200..<300).contains(status)
            if declared > (success ? maxBytes : min(maxBytes, Self.errorBodyCap)) {
                if success { return task.eventLoop.makeFailedFuture(BodyTooLarge()) }
                dropped = true
            }
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ part: ByteBuffer) -> EventLoopFuture<Void> {
        guard !dropped else { return task.eventLoop.makeSucceededVoidFuture() }
        let success = (200..<300).contains(status)
        let cap = success ? maxBytes : min(maxBytes, Self.errorBodyCap)
        if body.readableBytes + part.readableBytes > cap {
            if success { return task.eventLoop.makeFailedFuture(BodyTooLarge()) }
            dropped = true
            body = ByteBuffer()
            return task.eventLoop.makeSucceededVoidFuture()
        }
        var part = part
        body.writeBuffer(&part)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        Response(endpoint: endpoint, status: status, headers: headers, body: Data(buffer: body), secrets: secrets)
    }
}
