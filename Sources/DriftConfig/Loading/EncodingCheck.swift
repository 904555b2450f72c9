/// The byte-level checks done before TOML parsing: valid UTF-8 and no NUL bytes (TOMLKit hands the
/// text to C++ as a C string, which would silently end at a NUL).
enum EncodingCheck {
    /// Where the bytes first break the rules.
    struct Problem: Equatable {
        var line: Int
        var message: String
    }

    static func firstProblem(in bytes: [UInt8]) -> Problem? {
        var line = 1
        var lineStart = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte == 0x0A {
                    line += 1
                    lineStart = index + 1
                } else if byte == 0 {
                    return Problem(line: line, message: "contains a NUL byte (column \(index - lineStart + 1))")
                }
                index += 1
                continue
            }
            let length = sequenceLength(bytes, at: index)
            if length == 0 {
                let hex = String(byte, radix: 16, uppercase: true)
                return Problem(
                    line: line,
                    message: "invalid UTF-8 (byte 0x\(hex.count == 1 ? "0" + hex : hex) at column \(index - lineStart + 1))")
            }
            index += length
        }
        return nil
    }

    /// Length of the well-formed UTF-8 sequence at `index` (Unicode table 3-7), or 0 if ill-formed.
    private static func sequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index + offset < bytes.count && range.contains(bytes[index + offset])
        }
        let lead = bytes[index]
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : 0
        case 0xE0:
            return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : 0
        case 0xED:
            return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0:
            return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4:
            return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }
}
