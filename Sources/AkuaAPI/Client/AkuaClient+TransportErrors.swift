import AsyncHTTPClient
import Foundation
import NIOCore

/// Transport failures (AsyncHTTPClient, NIO, TLS) mapped to `AkuaAPIError`: a broken or truncated exchange is
/// `.transport` (retryable with the same key), a deadline is `.timeout`, the body cap is `.oversized`.
extension AkuaClient {
    /// Maps a transport-level error from AsyncHTTPClient/NIO to `AkuaAPIError`
    /// (`limit`: the body size cap; `target`: `host:port` or the proxy, for messages).
    static func map(_ error: any Error, limit: Int, target: String) -> AkuaAPIError {
        if error is NIOTooManyBytesError { return .oversized(limit: limit) }
        // Only a caller cancels a request (a deadline is `.deadlineExceeded`): the calling task, or the
        // cancel handle of the callback create.
        if error is CancellationError { return .cancelled }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                 .getConnectionFromPoolTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout:
                return .timeout
            case .cancelled, .alreadyShutdown:
                return .cancelled
            case .remoteConnectionClosed:
                return .transport("\(target): the server closed the connection before the response was complete")
            case .proxyAuthenticationRequired:
                return .transport("the proxy requires authentication")
            case .invalidProxyResponse:
                return .transport("the proxy refused the connection")
            case .invalidURL, .emptyHost, .emptyScheme:
                return .invalidRequest(status: nil, detail: "the request URL is invalid")
            default:
                return .transport(ErrorText.sanitize("\(target): \(error.shortDescription)", limit: 200))
            }
        }
        if let message = connectionFailure(error) { return .transport(message) }
        if let error = error as? IOError {
            return .transport(ErrorText.sanitize("\(target): \(errnoText(error.errnoCode))", limit: 200))
        }
        if String(describing: type(of: error)).hasPrefix("NIOSSL") || String(reflecting: type(of: error)).contains("BoringSSL") {
            return .transport(ErrorText.sanitize("\(target): TLS failure: \(String(describing: error))", limit: 200))
        }
        return .transport(ErrorText.sanitize("\(target): \(String(describing: error))", limit: 200))
    }

    /// "cannot connect to HOST:PORT: Connection refused" for NIOPosix's `NIOConnectionError`, read by
    /// reflection because AkuaAPI does not depend on NIOPosix.
    fileprivate static func connectionFailure(_ error: any Error) -> String? {
        guard String(describing: type(of: error)) == "NIOConnectionError" else { return nil }
        let mirror = Mirror(reflecting: error)
        let host = mirror.descendant("host") as? String ?? "?"
        let port = mirror.descendant("port").map { "\($0)" } ?? "?"
        var why = "no usable address"
        if let failures = mirror.descendant("connectionErrors") as? [Any], let first = failures.first {
            let underlying = Mirror(reflecting: first).descendant("error")
            if let io = underlying as? IOError {
                why = errnoText(io.errnoCode)
            } else if let underlying {
                why = "\(underlying)"
            }
        } else if let dns = mirror.descendant("dnsAError") ?? mirror.descendant("dnsAAAAError"),
                  String(describing: dns) != "nil" {
            why = "name resolution failed"
        }
        return ErrorText.sanitize("cannot connect to \(host):\(port): \(why)", limit: 200)
    }

    fileprivate static func errnoText(_ code: CInt) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
