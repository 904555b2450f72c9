/// Compact JSON text of a value with its object keys sorted: what the state file stores for a report's
/// `delta` and `provider_snapshot`, written once per check (Foundation's `JSONEncoder` with `.sortedKeys`
/// writes an equivalent document at several times the cost; a round-trip test holds the two together).
extension JSONValue {
    public var jsonText: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends this value's JSON text to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .integer(let value): out.append(contentsOf: String(value).utf8)
        case .unsignedInteger(let value): out.append(contentsOf: String(value).utf8)
        // Swift's shortest round-trip form (`0.1`, `1e-07`, `3.0`) is valid JSON for every finite Double.
        case .number(let value): out.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
        case .string(let value): Self.write(string: value, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members): Self.write(object: members, to: &out)
        }
    }

    /// An object's members, keys sorted.
    public static func write(object members: [String: JSONValue], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            write(string: key, to: &out)
            out.append(UInt8(ascii: ":"))
            members[key]!.write(to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A string literal: `"` and `\` escaped, control characters as `\n`, `\t`... or `\u00XX`.
    public static func write(string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension ProviderSnapshot {
    /// `{"provider":...,"raw_attrs":{...}}`, as `JSONEncoder` with `.sortedKeys` writes it.
    public var jsonText: String {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"provider":"#.utf8)
        JSONValue.write(string: provider, to: &out)
        out.append(contentsOf: #","raw_attrs":"#.utf8)
        JSONValue.write(object: rawAttrs, to: &out)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}
