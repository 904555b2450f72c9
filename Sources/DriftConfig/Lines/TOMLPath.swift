/// One step of a path into a TOML document: a table key or an index into an array.
enum TOMLPathComponent: Hashable, Sendable {
    case key(String)
    case index(Int)
}

/// A path into a TOML document, e.g. `machine[3].id` is `[.key("machine"), .index(3), .key("id")]`.
typealias TOMLPath = [TOMLPathComponent]

extension Array where Element == TOMLPathComponent {
    /// The dotted form used in diagnostics: `api.timeout`, `machine[3].id`, `api."odd key"`.
    /// Indices are 0-based; keys that are not bare TOML keys are quoted with control characters escaped.
    var dotted: String {
        var text = ""
        for component in self {
            switch component {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += TOMLPathFormat.displayKey(key)
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    /// This path with `key` appended.
    func appending(_ key: String) -> TOMLPath { self + [.key(key)] }

    /// This path with the array index `index` appended.
    func appending(index: Int) -> TOMLPath { self + [.index(index)] }
}

/// Printing keys and user-supplied text safely inside one diagnostic line.
enum TOMLPathFormat {
    /// `key` as written in TOML: bare if possible, else a basic string with escapes.
    static func displayKey(_ key: String) -> String {
        let isBare = !key.isEmpty && key.utf8.count <= 80 && key.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D
        }
        return isBare ? key : quoted(key)
    }

    /// `text` with control characters, line and paragraph separators escaped (`\u{2028}`), so a message
    /// from elsewhere (toml++) stays on one line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Control characters (C0, DEL, C1), format characters and line/paragraph separators.
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0) || scalar.value == 0x2028
            || scalar.value == 0x2029 || scalar.properties.generalCategory == .format
    }

    /// `text` in double quotes with quotes, backslashes and control characters escaped, and cut to
    /// `limit` characters, so user input can never break a diagnostic onto several lines.
    static func quoted(_ text: String, limit: Int = 80) -> String {
        var out = "\""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            count += 1
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if isUnsafe(scalar) {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
