import Foundation

/// A syntax-only JSON check that tells a complete document from a damaged one.
///
/// A body that is one complete, well-formed JSON value and still fails decoding breaks the schema (a replay
/// would return it again: `invalidReport`); anything else (truncated, garbage appended, cut mid-string) is
/// transport damage (`badResponse`, retryable). Iterative with an explicit stack, so any nesting depth is fine.
/// Like Foundation's parser (which the decoder uses) it tolerates a trailing comma before `]` or `}`.
enum JSONSyntax {
    private enum Expect {
        case value, valueOrClose, key, keyOrClose, colon, afterValue
    }

    /// True when `body` is exactly one complete JSON value, optionally surrounded by whitespace.
    static func isCompleteDocument(_ body: Data) -> Bool {
        body.withUnsafeBytes { raw in isCompleteDocument(raw.bindMemory(to: UInt8.self)) }
    }

    static func isCompleteDocument(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var stack: [UInt8] = []
        var expect = Expect.value
        var i = 0
        let end = bytes.count
        while true {
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            if expect == .afterValue, stack.isEmpty { return i == end }
            guard i < end else { return false }
            let c = bytes[i]
            switch expect {
            case .value, .valueOrClose:
                if expect == .valueOrClose, c == UInt8(ascii: "]") {
                    stack.removeLast()
                    i += 1
                    expect = .afterValue
                    continue
                }
                switch c {
                case UInt8(ascii: "{"):
                    stack.append(c)
                    i += 1
                    expect = .keyOrClose
                case UInt8(ascii: "["):
                    stack.append(c)
                    i += 1
                    expect = .valueOrClose
                case UInt8(ascii: "\""):
                    guard let next = scanString(bytes, from: i) else { return false }
                    i = next
                    expect = .afterValue
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard let next = scanNumber(bytes, from: i) else { return false }
                    i = next
                    expect = .afterValue
                case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                    guard let next = scanLiteral(bytes, from: i) else { return false }
                    i = next
                    expect = .afterValue
                default:
                    return false
                }
            case .key, .keyOrClose:
                if expect == .keyOrClose, c == UInt8(ascii: "}") {
                    stack.removeLast()
                    i += 1
                    expect = .afterValue
                    continue
                }
                guard c == UInt8(ascii: "\""), let next = scanString(bytes, from: i) else { return false }
                i = next
                expect = .colon
            case .colon:
                guard c == UInt8(ascii: ":") else { return false }
                i += 1
                expect = .value
            case .afterValue:
                let open = stack[stack.count - 1]
                if c == UInt8(ascii: ",") {
                    expect = open == UInt8(ascii: "[") ? .valueOrClose : .keyOrClose
                } else if open == UInt8(ascii: "[") && c == UInt8(ascii: "]")
                    || open == UInt8(ascii: "{") && c == UInt8(ascii: "}") {
                    stack.removeLast()
                } else {
                    return false
                }
                i += 1
            }
        }
    }

    private static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
    }

    private static func isDigit(_ c: UInt8) -> Bool {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
    }

    private static func isHex(_ c: UInt8) -> Bool {
        isDigit(c) || (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "f")
    }

    /// The index after the closing quote of the string starting at `start`; nil when unterminated or invalid.
    private static func scanString(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start + 1
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\""):
                return i + 1
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count else { return nil }
                switch bytes[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 5 < bytes.count, (i + 2...i + 5).allSatisfy({ isHex(bytes[$0]) }) else { return nil }
                    i += 6
                default:
                    return nil
                }
            case 0x00..<0x20:
                return nil
            default:
                i += 1
            }
        }
        return nil
    }

    /// The index after the number starting at `start` (RFC 8259 grammar); nil when it is not one.
    private static func scanNumber(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start
        let end = bytes.count
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end, isDigit(bytes[i]) else { return nil }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < end, isDigit(bytes[i]) { i += 1 }
        }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < end, isDigit(bytes[i]) else { return nil }
            while i < end, isDigit(bytes[i]) { i += 1 }
        }
        if i < end, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < end, isDigit(bytes[i]) else { return nil }
            while i < end, isDigit(bytes[i]) { i += 1 }
        }
        return i
    }

    /// The index after `true`, `false` or `null` at `start`; nil for anything else (a cut literal included).
    private static func scanLiteral(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        for literal in ["true", "false", "null"] {
            let utf8 = Array(literal.utf8)
            guard bytes[start] == utf8[0] else { continue }
            guard start + utf8.count <= bytes.count,
                  (0..<utf8.count).allSatisfy({ bytes[start + $0] == utf8[$0] }) else { return nil }
            return start + utf8.count
        }
        return nil
    }
}
