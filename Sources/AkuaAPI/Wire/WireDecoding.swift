import DriftCore
import Foundation

/// Decodes response bodies and turns `DecodingError`s into short readable reasons
/// such as `missing required field state` or `invalid state "exploded"`.
enum WireDecoding {
    /// Decodes `T` from a JSON body, or throws a one-line reason: `.invalidReport` when the body is one
    /// complete JSON document that breaks the schema, `.badResponse` when it is empty, cut or garbled.
    static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws(AkuaAPIError) -> T {
        guard !body.isEmpty else { throw .badResponse("empty body") }
        // The hot decode (a report per check) takes the fast path when it can answer; otherwise JSONDecoder.
        if T.self == DriftReport.self, let report = ReportParser.report(body) { return report as! T }
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch let error as DecodingError {
            let complete = JSONSyntax.isCompleteDocument(body)
            let why = reason(error, body: body, complete: complete)
            throw complete ? .invalidReport(why) : .badResponse(why)
        } catch {
            throw JSONSyntax.isCompleteDocument(body) ? .invalidReport("undecodable body") : .badResponse("undecodable body")
        }
    }

    /// A one-line reason for a decoding failure, quoting (sanitized) the offending value when there is one.
    /// `complete`: the body is one whole JSON document, so a root-level failure is about a value, not syntax.
    static func reason(_ error: DecodingError, body: Data, complete: Bool = false) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing required field \(render(context.codingPath + [key]))"
        case .valueNotFound(_, let context):
            if context.codingPath.isEmpty { return "expected a JSON object, got null" }
            return "missing required field \(render(context.codingPath)) (null)"
        case .typeMismatch(let type, let context):
            let found = rawValue(at: context.codingPath, in: body).map { ", got \($0)" } ?? ""
            if context.codingPath.isEmpty { return "expected a JSON \(typeName(type))\(found)" }
            return "field \(render(context.codingPath)) has the wrong type (expected \(typeName(type))\(found))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
                    ?? (context.debugDescription.isEmpty ? nil : context.debugDescription)
                let detail = underlying.map { ": " + ErrorText.sanitize($0, limit: 120) } ?? ""
                // Numbers that fit no Swift type are reported at the root, though the document is whole.
                return (complete ? "unusable JSON value" : "malformed JSON") + detail
            }
            let field = render(context.codingPath)
            let value = rawValue(at: context.codingPath, in: body).map { " \($0)" } ?? ""
            let why = context.debugDescription.hasPrefix("Cannot initialize") || context.debugDescription.isEmpty
                ? "" : ": " + ErrorText.sanitize(context.debugDescription, limit: 120)
            return "invalid \(field)\(value)\(why)"
        @unknown default:
            return "undecodable body"
        }
    }

    /// `data[0].provider_snapshot.provider` from a coding path.
    static func render(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index ") || key.stringValue == String(index) {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + ErrorText.sanitize(key.stringValue, limit: 64)
            }
        }
        return out.isEmpty ? "(body)" : out
    }

    /// The JSON value at `path`, rendered short: `"exploded"`, `-5`, `null`, `an object`.
    static func rawValue(at path: [any CodingKey], in body: Data) -> String? {
        guard var node = try? JSONDecoder().decode(JSONValue.self, from: body) else { return nil }
        for key in path {
            switch node {
            case .array(let items):
                guard let index = key.intValue, items.indices.contains(index) else { return nil }
                node = items[index]
            case .object(let members):
                guard let child = members[key.stringValue] else { return nil }
                node = child
            default:
                return nil
            }
        }
        switch node {
        case .string(let text): return "\"\(ErrorText.sanitize(text, limit: 64))\""
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        case .bool(let value): return String(value)
        case .integer, .unsignedInteger, .number: return ErrorText.sanitize(node.displayText, limit: 32)
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Bool.Type: "boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type: "integer"
        case is Double.Type, is Float.Type: "number"
        case is [Any].Type: "array"
        default:
            String(describing: type).hasPrefix("Array") ? "array" : "object"
        }
    }
}
