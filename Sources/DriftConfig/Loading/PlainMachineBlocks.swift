/// The fast path for large fleets: `[[machine]]` blocks written plainly (each line blank, a comment, or
/// `id`/`name`/`interval` = a one-line string without escapes) are read here, and only the rest of the
/// file goes to TOMLKit. TOMLKit builds a C++ node and a Swift wrapper per value and leaks a C copy of
/// every string it returns, so a million machines through it took seconds and leaked per reload.
/// Any block that is not plain sends the whole file down the TOMLKit path, diagnostics unchanged.
enum PlainMachineBlocks {
    /// The values of one block, as TOMLKit would return them.
    struct Fields: Sendable {
        var id: String?
        var name: String?
        var interval: String?
    }

    /// The machines of `blocks` (byte ranges of `bytes`, from `TOMLLineIndex.machineBlocks`) and `bytes`
    /// with those blocks blanked (their newlines kept, so lines and columns elsewhere stay as they are);
    /// nil when a block is not plain.
    static func extract(_ bytes: [UInt8], blocks: [Range<Int>]) -> (machines: [Fields], remainder: [UInt8])? {
        guard !blocks.isEmpty else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> ([Fields], [UInt8])? in
            var machines: [Fields] = []
            machines.reserveCapacity(blocks.count)
            var remainder: [UInt8] = []
            remainder.reserveCapacity(bytes.count - blocks.reduce(0) { $0 + $1.count } + blocks.count * 4)
            var copied = 0
            for block in blocks {
                guard let fields = parse(buffer, block) else { return nil }
                machines.append(fields)
                remainder.append(contentsOf: buffer[copied..<block.lowerBound])
                for index in block where buffer[index] == newline { remainder.append(newline) }
                copied = block.upperBound
            }
            remainder.append(contentsOf: buffer[copied..<buffer.count])
            return (machines, remainder)
        }
    }

    private static let newline: UInt8 = 0x0A
    private static let carriageReturn: UInt8 = 0x0D
    private static let space: UInt8 = 0x20
    private static let tab: UInt8 = 0x09
    private static let hash: UInt8 = 0x23

    /// One block: its `[[machine]]` header line, then plain lines only.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ block: Range<Int>) -> Fields? {
        var pos = block.lowerBound
        let end = block.upperBound
        func skipSpaces() { while pos < end, bytes[pos] == space || bytes[pos] == tab { pos += 1 } }
        func expect(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard end - pos >= count else { return false }
            for offset in 0..<count where bytes[pos + offset] != text.utf8Start[offset] { return false }
            pos += count
            return true
        }
        /// Spaces, an optional comment, then the end of the line (consumed) or of the block.
        func endOfLine() -> Bool {
            skipSpaces()
            if pos < end, bytes[pos] == hash {
                pos += 1
                while pos < end, bytes[pos] != newline {
                    let byte = bytes[pos]
                    if byte == carriageReturn {
                        guard pos + 1 < end, bytes[pos + 1] == newline else { return false }
                    } else if (byte < space && byte != tab) || byte == 0x7F {
                        return false
                    }
                    pos += 1
                }
            }
            if pos == end { return true }
            if bytes[pos] == carriageReturn {
                guard pos + 1 < end, bytes[pos + 1] == newline else { return false }
                pos += 1
            }
            guard bytes[pos] == newline else { return false }
            pos += 1
            return true
        }

        skipSpaces()
        guard expect("[["), { skipSpaces(); return true }(), expect("machine"), { skipSpaces(); return true }(),
              expect("]]"), endOfLine() else { return nil }
        var fields = Fields()
        while pos < end {
            skipSpaces()
            if pos == end { break }
            let first = bytes[pos]
            if first == newline || first == carriageReturn || first == hash {
                guard endOfLine() else { return nil }
                continue
            }
            let key: Int
            if expect("id") { key = 0 } else if expect("name") { key = 1 } else if expect("interval") { key = 2 } else { return nil }
            // The key must end here (not `identity`, `id.x`).
            skipSpaces()
            guard pos < end, bytes[pos] == 0x3D else { return nil }
            pos += 1
            skipSpaces()
            guard pos < end, bytes[pos] == 0x22 || bytes[pos] == 0x27 else { return nil }
            let quote = bytes[pos]
            pos += 1
            let start = pos
            while pos < end, bytes[pos] != quote {
                let byte = bytes[pos]
                // No escapes (basic strings), no line breaks or control characters TOML forbids.
                if (byte == 0x5C && quote == 0x22) || (byte < space && byte != tab) || byte == 0x7F { return nil }
                pos += 1
            }
            guard pos < end else { return nil }
            let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
            pos += 1
            guard endOfLine() else { return nil }
            switch key {
            case 0:
                guard fields.id == nil else { return nil }
                fields.id = value
            case 1:
                guard fields.name == nil else { return nil }
                fields.name = value
            default:
                guard fields.interval == nil else { return nil }
                fields.interval = value
            }
        }
        return fields
    }
}
