import DriftCore

/// The Akua API's error body (`ApiErrorResponse`): `{"success": false, "errors": [...], "result": {}}`.
public struct ApiErrorResponse: Sendable, Hashable, Codable {
    /// Always false in an error response.
    public var success: Bool
    /// What went wrong; the first entry is the one reported.
    public var errors: [ApiErrorEntry]
    /// Always empty for errors; tolerated when absent.
    public var result: [String: JSONValue]

    public init(success: Bool = false, errors: [ApiErrorEntry], result: [String: JSONValue] = [:]) {
        self.success = success
        self.errors = errors
        self.result = result
    }

    enum CodingKeys: String, CodingKey {
        case success, errors, result
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        success = try c.decode(Bool.self, forKey: .success)
        errors = try c.decode([ApiErrorEntry].self, forKey: .errors)
        result = try c.decodeIfPresent([String: JSONValue].self, forKey: .result) ?? [:]
        guard !success else {
            throw DecodingError.dataCorruptedError(
                forKey: .success, in: c, debugDescription: "an error response must have success false")
        }
    }
}

/// One entry of `ApiErrorResponse.errors`.
public struct ApiErrorEntry: Sendable, Hashable, Codable {
    /// Machine-readable error code (e.g. 7002).
    public var code: Int
    /// Human-readable message.
    public var message: String
    /// The field that caused the error, when applicable (e.g. `["body", "name"]`).
    public var path: [String]?
    /// Extra string facts (e.g. `resource`, `id` of what was not found).
    public var metadata: [String: String]?

    public init(code: Int, message: String, path: [String]? = nil, metadata: [String: String]? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case code, message, path, metadata
    }

    /// `code` and `message` are required; a malformed optional `path` or `metadata` is dropped, not fatal.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.decode(Int.self, forKey: .code)
        message = try c.decode(String.self, forKey: .message)
        path = (try? c.decodeIfPresent([String].self, forKey: .path)) ?? nil
        metadata = (try? c.decodeIfPresent([String: String].self, forKey: .metadata)) ?? nil
    }
}
