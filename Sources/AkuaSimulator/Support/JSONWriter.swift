/// A minimal, allocation-light JSON serialiser for the simulator's hot paths (Foundation's
/// JSONEncoder is far too slow for thousands of responses per second). Keys keep insertion order.
struct JSONWriter {
    private(set) var output: String
    /// One entry per open container: whether the next member needs a leading comma.
    private var needsComma: [Bool] = []

    init(capacity: Int = 512) {
        output = ""
        output.reserveCapacity(capacity)
    }

    mutating func beginObject() {
        separate()
        output.append("{")
        needsComma.append(false)
    }

    mutating func endObject() {
        output.append("}")
        needsComma.removeLast()
    }

    mutating func beginArray() {
        separate()
        output.append("[")
        needsComma.append(false)
    }

    mutating func endArray() {
        output.append("]")
        needsComma.removeLast()
    }

    /// Writes `"name":`; the following value call must not add a comma.
    mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        output.append(":")
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    mutating func int(_ value: Int64) {
        separate()
        output.append(String(value))
    }

    mutating func int(_ value: Int) {
        int(Int64(value))
    }

    mutating func double(_ value: Double) {
        separate()
        if value.isFinite {
            if value == value.rounded(), abs(value) < 1e15 {
                output.append(String(Int64(value)))
            } else {
                output.append(String(value))
            }
        } else {
            output.append("null")
        }
    }

    mutating func bool(_ value: Bool) {
        separate()
        output.append(value ? "true" : "false")
    }

    mutating func null() {
        separate()
        output.append("null")
    }

    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Appends already-serialised JSON (used for the oversized fault padding).
    mutating func raw(_ json: String) {
        separate()
        output.append(json)
    }

    mutating func value(_ value: SimJSON) {
        switch value {
        case .string(let s): string(s)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .bool(let b): bool(b)
        case .null: null()
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, member) in members {
                key(name)
                self.value(member)
            }
            endObject()
        }
    }

    private mutating func separate() {
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] {
            output.append(",")
        } else {
            needsComma[needsComma.count - 1] = true
        }
    }

    private mutating func appendQuoted(_ text: String) {
        output.append("\"")
        var clean = true
        for byte in text.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            clean = false
            break
        }
        if clean {
            output.append(text)
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": output.append("\\\"")
                case "\\": output.append("\\\\")
                case "\n": output.append("\\n")
                case "\r": output.append("\\r")
                case "\t": output.append("\\t")
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default:
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output.append("\"")
    }
}

/// An ordered JSON value for generated provider attributes and deltas.
enum SimJSON: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case array([SimJSON])
    case object([(String, SimJSON)])

    static func == (lhs: SimJSON, rhs: SimJSON) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}
