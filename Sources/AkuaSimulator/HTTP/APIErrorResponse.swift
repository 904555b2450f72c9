import Hummingbird

/// Error codes the simulator puts in `ApiErrorResponse.errors[].code`. Akua documents only 7002
/// ("Resource not found"); the others are the simulator's own, stable so tests can match them.
public enum SimulatorErrorCode {
    public static let unauthorized = 1001
    public static let invalidRequest = 1002
    public static let malformedJSON = 1003
    public static let unprocessable = 1004
    public static let methodNotAllowed = 1005
    public static let payloadTooLarge = 1006
    public static let forbidden = 1007
    public static let unsupportedMediaType = 1015
    public static let rateLimited = 1029
    public static let notFound = 7002
    public static let idempotencyConflict = 7009
    public static let simulatedServerError = 5000
    public static let notImplemented = 5001
}

/// Header names the simulator reads or writes beyond the standard ones.
enum HeaderNames {
    typealias Name = HTTPFields.Element.Name
    static let idempotencyKey = Name("idempotency-key")!
    static let akuaContext = Name("akua-context")!
    static let idempotentReplayed = Name("idempotent-replayed")!
}

/// Builds `ApiErrorResponse` bodies: `{"success":false,"errors":[{code,message,path?}],"result":{}}`.
enum APIError {
    static func response(
        _ status: HTTPResponse.Status,
        code: Int,
        message: String,
        path: [String]? = nil,
        metadata: [(String, String)] = [],
        headers extra: HTTPFields = [:]
    ) -> Response {
        var w = JSONWriter(capacity: 160)
        w.beginObject()
        w.key("success"); w.bool(false)
        w.key("errors")
        w.beginArray()
        w.beginObject()
        w.key("code"); w.int(code)
        w.key("message"); w.string(message)
        if let path {
            w.key("path")
            w.beginArray()
            for element in path { w.string(element) }
            w.endArray()
        }
        if !metadata.isEmpty {
            w.key("metadata")
            w.beginObject()
            for (name, value) in metadata {
                w.key(name)
                w.string(value)
            }
            w.endObject()
        }
        w.endObject()
        w.endArray()
        w.key("result"); w.beginObject(); w.endObject()
        w.endObject()
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: w.output)))
    }

    /// 404 with Akua's code 7002; metadata says which resource was missing.
    static func notFound(resource: String, id: String) -> Response {
        response(.notFound, code: SimulatorErrorCode.notFound, message: "Resource not found",
                 metadata: [("resource", resource), ("id", id)])
    }

    /// A drift report operation switched off (`drift_ops_status`): the status with a plain ApiErrorResponse
    /// and no metadata, so only a `GET /machines/{id}` can tell it from an unknown machine.
    static func operationUnavailable(status: Int) -> Response {
        switch status {
        case 405:
            // An empty Allow: "temporarily disabled by configuration" (RFC 9110 §10.2.1).
            response(.methodNotAllowed, code: SimulatorErrorCode.methodNotAllowed, message: "Method not allowed",
                     headers: [.allow: ""])
        case 501:
            response(.notImplemented, code: SimulatorErrorCode.notImplemented, message: "Not implemented")
        default:
            response(.notFound, code: SimulatorErrorCode.notFound, message: "Resource not found")
        }
    }

    static func invalid(_ message: String, path: [String]) -> Response {
        response(.badRequest, code: SimulatorErrorCode.invalidRequest, message: message, path: path)
    }

    static func json(_ status: HTTPResponse.Status, _ text: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
