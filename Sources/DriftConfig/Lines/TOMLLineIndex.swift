import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Maps paths in a TOML document (`machine[3].id`, `api.timeout`) to the 1-based line defining them.
///
/// TOMLKit reports lines only for syntax errors, so this scans the source once, following `[table]`
/// headers, `[[array-of-tables]]` occurrences, dotted and quoted keys, inline tables and arrays, and
/// skipping strings (multi-line ones too) and comments. It never fails: where it does not understand
/// the input it skips to the next line. It also notes what TOMLKit cannot take safely: nesting deeper
/// than `maxDepth`, strings or keys containing U+0000 (TOMLKit would silently cut them short), and the
/// `hazard`s toml++ trips over.
struct TOMLLineIndex: Sendable {
    /// A line and the path being defined there.
    struct Location: Sendable, Equatable {
        var line: Int
        var path: TOMLPath
    }

    /// Deepest nesting (key parts plus array and inline-table levels) accepted before the scan stops.
    static let maxDepth = 64

    /// Path -> line, built on first use: only diagnostics need it, so a valid file of 100,000 machines
    /// never pays for hashing every path it defines.
    private let lines: LazyLines
    /// Where nesting first went deeper than `maxDepth`; the scan stopped there.
    let tooDeep: Location?
    /// Every string or key that contains an escaped U+0000.
    let nulCharacters: [Location]
    /// Syntax that toml++ (inside TOMLKit) asserts in debug builds, and assumes in release builds, never
    /// to meet: a table header not starting with a key (`[}x]`), `}` or a non-ASCII character (U+2028)
    /// where an array expects a value (`[1, }`), or a date and `T` without an hour (`1979-05-27T:00Z`).
    /// Such input must be reported here, never handed to TOMLKit.
    let hazard: Hazard?

    /// A syntax error found by the scanner itself, worded like toml++'s own.
    struct Hazard: Sendable, Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// Where each top-level `[[machine]]` header line starts (byte offset) and where the next header line
    /// after it starts (or the end of the file): the byte ranges of the machine blocks, in order.
    let machineBlocks: [Range<Int>]

    /// Scans for the checks (depth, NULs, hazards) and the machine blocks; the path -> line pairs are
    /// collected by a second scan on the first line lookup (only diagnostics need them, and for a million
    /// machines they would hold three million paths).
    init(bytes: [UInt8]) {
        let result = bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer, recordLines: false)
            scanner.run()
            return scanner.result
        }
        lines = LazyLines(bytes: bytes)
        tooDeep = result.tooDeep
        nulCharacters = result.nulCharacters
        hazard = result.hazard
        var blocks: [Range<Int>] = []
        blocks.reserveCapacity(result.machineHeaderCount)
        for (index, header) in result.headers.enumerated() where header.isMachineArray {
            let end = index + 1 < result.headers.count ? result.headers[index + 1].start : bytes.count
            blocks.append(header.start..<end)
        }
        machineBlocks = blocks
    }

    /// The path -> line pairs of `bytes`, in order of definition.
    fileprivate static func scanLines(_ bytes: [UInt8]) -> [(TOMLPath, Int)] {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer, recordLines: true)
            scanner.run()
            return scanner.lines
        }
    }

    /// The first line defining `path`, scanning only as far as that line.
    fileprivate static func scanLine(_ bytes: [UInt8], of path: TOMLPath) -> Int? {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer, recordLines: false)
            scanner.target = path
            scanner.run()
            return scanner.found
        }
    }

    init(text: String) {
        self.init(bytes: Array(text.utf8))
    }

    /// The line where `path` is defined (first occurrence), if the scan saw it.
    func line(of path: TOMLPath) -> Int? {
        lines.line(of: path)
    }

    /// The line of `path` or, failing that, of its nearest enclosing table or array; 0 if none is known.
    func nearestLine(of path: TOMLPath) -> Int {
        var length = path.count
        while length > 0 {
            if let line = lines.line(of: Array(path.prefix(length))) { return line }
            length -= 1
        }
        return 0
    }
}

/// The (path, line) pairs of a scan, in order. The first few lookups search them (a valid file asks for
/// one or two lines: its secret files); more lookups build a first-occurrence map once.
private final class LazyLines: Sendable {
    private struct State {
        var lookups = 0
        var map: [TOMLPath: Int]?
    }

    private let bytes: [UInt8]
    private let state = Mutex(State())
    private static let searchedLookups = 16

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The line where `path` first occurs: the first few lookups scan only up to it (a valid file asks
    /// for the lines of its secret files, near the top), later ones build the whole map once.
    func line(of path: TOMLPath) -> Int? {
        state.withLock { state in
            if let map = state.map { return map[path] }
            state.lookups += 1
            if state.lookups <= Self.searchedLookups {
                return TOMLLineIndex.scanLine(bytes, of: path)
            }
            let entries = TOMLLineIndex.scanLines(bytes)
            var map: [TOMLPath: Int] = [:]
            map.reserveCapacity(entries.count)
            for (path, line) in entries where map[path] == nil { map[path] = line }
            state.map = map
            return map[path]
        }
    }
}

/// What the scanner found.
private struct ScanResult {
    /// Every table header: where its line starts, and whether it is `[[machine]]`.
    var headers: [(start: Int, isMachineArray: Bool)]
    var machineHeaderCount: Int
    var tooDeep: TOMLLineIndex.Location?
    var nulCharacters: [TOMLLineIndex.Location]
    var hazard: TOMLLineIndex.Hazard?
}

/// The single-pass scanner behind `TOMLLineIndex`. Every step consumes input or gives up, so it terminates.
/// Works on a buffer pointer that must not outlive the `withUnsafeBufferPointer` call creating it.
private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var pos = 0
    var line = 1
    /// Whether `lines` is filled (a scan for a line lookup) or not (the first scan, for the checks).
    let recordLines: Bool
    var lines: [(TOMLPath, Int)] = []
    /// A path to find: the scan stops at the first line defining it (`found`).
    var target: TOMLPath?
    var found: Int?
    var headers: [(start: Int, isMachineArray: Bool)] = []
    var machineHeaderCount = 0
    var arrayCounts: [TOMLPath: Int] = [:]
    var table: TOMLPath = []
    var tooDeep: TOMLLineIndex.Location?
    var nulCharacters: [TOMLLineIndex.Location] = []
    var hazard: TOMLLineIndex.Hazard?

    init(bytes: UnsafeBufferPointer<UInt8>, recordLines: Bool) {
        self.bytes = bytes
        self.recordLines = recordLines
    }

    var result: ScanResult {
        ScanResult(headers: headers, machineHeaderCount: machineHeaderCount, tooDeep: tooDeep, nulCharacters: nulCharacters, hazard: hazard)
    }

    private static let newline: UInt8 = 0x0A
    private static let carriageReturn: UInt8 = 0x0D
    private static let space: UInt8 = 0x20
    private static let tab: UInt8 = 0x09
    private static let hash: UInt8 = 0x23
    private static let quote: UInt8 = 0x22
    private static let apostrophe: UInt8 = 0x27
    private static let backslash: UInt8 = 0x5C
    private static let openBracket: UInt8 = 0x5B
    private static let closeBracket: UInt8 = 0x5D
    private static let openBrace: UInt8 = 0x7B
    private static let closeBrace: UInt8 = 0x7D
    private static let comma: UInt8 = 0x2C
    private static let dot: UInt8 = 0x2E
    private static let equals: UInt8 = 0x3D

    func peek(_ offset: Int = 0) -> UInt8? {
        let index = pos + offset
        guard index < bytes.count, let base = bytes.baseAddress else { return nil }
        return base[index]
    }

    mutating func run() {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { pos = 3 }
        while pos < bytes.count, tooDeep == nil, found == nil {
            let start = pos
            skipSpaces()
            guard let byte = peek() else { break }
            switch byte {
            case Self.newline:
                pos += 1
                line += 1
            case Self.carriageReturn:
                pos += 1
            case Self.hash:
                skipComment()
            case Self.openBracket:
                parseHeader(lineStart: start)
                finishLine()
            default:
                parseKeyValue(base: table, depth: 0)
                finishLine()
            }
            if pos == start { pos += 1 }
        }
    }

    // MARK: Structure

    mutating func parseHeader(lineStart: Int) {
        let headerLine = line
        headers.append((lineStart, false))
        let isArray = peek(1) == Self.openBracket
        pos += isArray ? 2 : 1
        skipSpaces()
        if let first = peek(), first != Self.closeBracket, first != Self.quote, first != Self.apostrophe,
            !Self.isBare(first)
        {
            noteHazard("Error while parsing table header: expected a key after '['")
        }
        guard let parts = parseKey(base: []) else { return }
        skipSpaces()
        guard peek() == Self.closeBracket else { return }
        pos += 1
        if isArray {
            guard peek() == Self.closeBracket else { return }
            pos += 1
        }
        if isArray, parts == ["machine"] { headers[headers.count - 1].isMachineArray = true }
        var resolved: TOMLPath = []
        for (offset, part) in parts.enumerated() {
            resolved.append(.key(part))
            if isArray, offset == parts.count - 1 {
                let count = arrayCount(resolved) ?? 0
                setArrayCount(resolved, count + 1)
                note(resolved, headerLine)
                resolved.append(.index(count))
            } else if let count = arrayCount(resolved) {
                resolved.append(.index(count - 1))
            }
            note(resolved, headerLine)
        }
        if resolved.count > TOMLLineIndex.maxDepth {
            markTooDeep(resolved)
            return
        }
        table = resolved
    }

    /// `[[machine]]` occurrences are counted apart from the other arrays of tables: a million of them
    /// would otherwise hash the path `machine` a million times.
    private static let machinePath: TOMLPath = [.key("machine")]

    func arrayCount(_ path: TOMLPath) -> Int? {
        if path.count == 1, path == Self.machinePath { return machineHeaderCount > 0 ? machineHeaderCount : nil }
        return arrayCounts[path]
    }

    mutating func setArrayCount(_ path: TOMLPath, _ count: Int) {
        if path.count == 1, path == Self.machinePath {
            machineHeaderCount = count
        } else {
            arrayCounts[path] = count
        }
    }

    mutating func parseKeyValue(base: TOMLPath, depth: Int) {
        let startLine = line
        guard let parts = parseKey(base: base) else { return }
        skipSpaces()
        guard peek() == Self.equals else { return }
        pos += 1
        var path = base
        for part in parts {
            path.append(.key(part))
            note(path, startLine)
        }
        if path.count > TOMLLineIndex.maxDepth {
            markTooDeep(path)
            return
        }
        parseValue(path: path, depth: depth)
    }

    /// A possibly dotted key; nil if there is none here.
    mutating func parseKey(base: TOMLPath) -> [String]? {
        var parts: [String] = []
        while true {
            skipSpaces()
            guard let byte = peek() else { return nil }
            if Self.isBare(byte) {
                let start = pos
                while let next = peek(), Self.isBare(next) { pos += 1 }
                parts.append(String(decoding: bytes[start..<pos], as: UTF8.self))
            } else if byte == Self.quote {
                let keyPath = base + parts.map { .key($0) }
                guard let key = scanBasicString(path: keyPath, collect: true) else { return nil }
                parts.append(key)
            } else if byte == Self.apostrophe {
                guard let key = scanLiteralString(collect: true) else { return nil }
                parts.append(key)
            } else {
                return nil
            }
            if base.count + parts.count > TOMLLineIndex.maxDepth {
                markTooDeep(base + parts.map { .key($0) })
                return nil
            }
            skipSpaces()
            guard peek() == Self.dot else { return parts }
            pos += 1
        }
    }

    mutating func parseValue(path: TOMLPath, depth: Int) {
        if depth > TOMLLineIndex.maxDepth {
            markTooDeep(path)
            return
        }
        skipSpaces()
        guard let byte = peek() else { return }
        switch byte {
        case Self.quote:
            if peek(1) == Self.quote, peek(2) == Self.quote {
                scanMultilineBasicString(path: path)
            } else {
                _ = scanBasicString(path: path, collect: false)
            }
        case Self.apostrophe:
            if peek(1) == Self.apostrophe, peek(2) == Self.apostrophe {
                scanMultilineLiteralString()
            } else {
                _ = scanLiteralString(collect: false)
            }
        case Self.openBracket:
            parseArray(path: path, depth: depth)
        case Self.openBrace:
            parseInlineTable(path: path, depth: depth)
        default:
            scanScalar()
        }
    }

    mutating func parseArray(path: TOMLPath, depth: Int) {
        pos += 1
        var index = 0
        while tooDeep == nil {
            skipBlank()
            guard let byte = peek() else { return }
            if byte == Self.closeBracket {
                pos += 1
                return
            }
            if byte == Self.closeBrace {
                noteHazard("Error while parsing array: expected value or closing ']', saw '}'")
                return
            }
            if byte >= 0x80 {
                // No value starts with a non-ASCII character; U+0085, U+2028 and U+2029 here trip toml++.
                noteHazard("Error while parsing array: expected value or closing ']', saw a non-ASCII character")
                return
            }
            let elementPath = path.appending(index: index)
            note(elementPath, line)
            let before = pos
            parseValue(path: elementPath, depth: depth + 1)
            if pos == before { return }
            skipBlank()
            if peek() == Self.comma {
                pos += 1
                index += 1
            } else {
                if peek() == Self.closeBracket { pos += 1 }
                return
            }
        }
    }

    mutating func parseInlineTable(path: TOMLPath, depth: Int) {
        pos += 1
        while tooDeep == nil {
            skipBlank()
            guard let byte = peek() else { return }
            if byte == Self.closeBrace {
                pos += 1
                return
            }
            let before = pos
            parseKeyValue(base: path, depth: depth + 1)
            if pos == before { return }
            skipBlank()
            if peek() == Self.comma {
                pos += 1
            } else {
                if peek() == Self.closeBrace { pos += 1 }
                return
            }
        }
    }

    // MARK: Lexing

    /// A number, boolean, date or time: up to whitespace or a delimiter ("1979-05-27 07:32:00" included).
    mutating func scanScalar() {
        let start = pos
        while let byte = peek(), !Self.endsScalar(byte) { pos += 1 }
        if Self.isDateThenT(bytes, at: start) {
            let hour = start + 11
            if hour >= bytes.count || !(0x30...0x39).contains(bytes[hour]) {
                pos = start + 11
                noteHazard("Error while parsing date-time: expected a 2-digit hour after 'T'")
                return
            }
        }
        if pos - start == 10, bytes[start + 4] == 0x2D, bytes[start + 7] == 0x2D,
            peek() == Self.space, let next = peek(1), next >= 0x30, next <= 0x39
        {
            pos += 1
            while let byte = peek(), !Self.endsScalar(byte) { pos += 1 }
        }
    }

    /// `YYYY-MM-DDT` (or `t`) at `start`: toml++ then parses a time and asserts (debug builds) or assumes
    /// (release builds) that a digit follows, so anything else must never reach it.
    static func isDateThenT(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard start + 10 < bytes.count else { return false }
        func digit(_ offset: Int) -> Bool { (0x30...0x39).contains(bytes[start + offset]) }
        return digit(0) && digit(1) && digit(2) && digit(3) && bytes[start + 4] == 0x2D && digit(5) && digit(6)
            && bytes[start + 7] == 0x2D && digit(8) && digit(9) && (bytes[start + 10] == 0x54 || bytes[start + 10] == 0x74)
    }

    /// A `"basic"` string; its decoded text if `collect`, nil if it is not closed on this line.
    mutating func scanBasicString(path: TOMLPath, collect: Bool) -> String? {
        pos += 1
        var text: [UInt8] = []
        while let byte = peek() {
            switch byte {
            case Self.quote:
                pos += 1
                return collect ? String(decoding: text, as: UTF8.self) : ""
            case Self.newline:
                return nil
            case Self.backslash:
                let decoded = scanEscape(path: path)
                if collect { text += decoded }
            default:
                if collect { text.append(byte) }
                pos += 1
            }
        }
        return nil
    }

    mutating func scanMultilineBasicString(path: TOMLPath) {
        pos += 3
        while let byte = peek() {
            switch byte {
            case Self.newline:
                line += 1
                pos += 1
            case Self.backslash:
                if peek(1) == Self.newline {
                    line += 1
                    pos += 2
                } else {
                    _ = scanEscape(path: path)
                }
            case Self.quote:
                var run = 0
                while peek() == Self.quote {
                    pos += 1
                    run += 1
                }
                if run >= 3 { return }
            default:
                pos += 1
            }
        }
    }

    /// A `'literal'` string; its text if `collect`, nil if it is not closed on this line.
    mutating func scanLiteralString(collect: Bool) -> String? {
        pos += 1
        let start = pos
        while let byte = peek() {
            if byte == Self.apostrophe {
                pos += 1
                return collect ? String(decoding: bytes[start..<(pos - 1)], as: UTF8.self) : ""
            }
            if byte == Self.newline { return nil }
            pos += 1
        }
        return nil
    }

    mutating func scanMultilineLiteralString() {
        pos += 3
        while let byte = peek() {
            if byte == Self.newline {
                line += 1
                pos += 1
            } else if byte == Self.apostrophe {
                var run = 0
                while peek() == Self.apostrophe {
                    pos += 1
                    run += 1
                }
                if run >= 3 { return }
            } else {
                pos += 1
            }
        }
    }

    /// Consumes a backslash escape (not a line-ending one) and returns its UTF-8; notes escaped U+0000.
    mutating func scanEscape(path: TOMLPath) -> [UInt8] {
        guard let kind = peek(1), kind != Self.newline else {
            pos += 1
            return []
        }
        pos += 2
        switch kind {
        case 0x62: return [0x08]  // \b
        case 0x74: return [0x09]  // \t
        case 0x6E: return [0x0A]  // \n
        case 0x66: return [0x0C]  // \f
        case 0x72: return [0x0D]  // \r
        case 0x65: return [0x1B]  // \e
        case 0x75, 0x55, 0x78:  // \uXXXX, \UXXXXXXXX, \xHH
            let width = kind == 0x75 ? 4 : kind == 0x55 ? 8 : 2
            var value: UInt32 = 0
            var digits = 0
            while digits < width, let byte = peek(), let digit = Self.hexValue(byte) {
                value = value &* 16 &+ digit
                pos += 1
                digits += 1
            }
            if digits == width, value == 0 {
                nulCharacters.append(.init(line: line, path: path))
            }
            guard digits == width, let scalar = Unicode.Scalar(value) else { return [0xEF, 0xBF, 0xBD] }
            return Array(String(Character(scalar)).utf8)
        default:
            return [kind]
        }
    }

    mutating func skipSpaces() {
        while let byte = peek(), byte == Self.space || byte == Self.tab { pos += 1 }
    }

    mutating func skipComment() {
        guard pos < bytes.count, let base = bytes.baseAddress else { return }
        if let found = memchr(base + pos, Int32(Self.newline), bytes.count - pos) {
            pos = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        } else {
            pos = bytes.count
        }
    }

    /// Whitespace, newlines and comments, as allowed between array elements.
    mutating func skipBlank() {
        while let byte = peek() {
            switch byte {
            case Self.space, Self.tab, Self.carriageReturn:
                pos += 1
            case Self.newline:
                line += 1
                pos += 1
            case Self.hash:
                skipComment()
            default:
                return
            }
        }
    }

    /// After a header or key/value: an optional comment, then anything else up to the newline is skipped.
    mutating func finishLine() {
        skipSpaces()
        skipComment()
    }

    mutating func note(_ path: TOMLPath, _ line: Int) {
        if recordLines { lines.append((path, line)) }
        if let target, found == nil, path == target { found = line }
    }

    /// Records the first hazard, at the current position.
    mutating func noteHazard(_ message: String) {
        guard hazard == nil else { return }
        var lineStart = pos
        while lineStart > 0, bytes[lineStart - 1] != Self.newline { lineStart -= 1 }
        hazard = .init(line: line, column: pos - lineStart + 1, message: message)
    }

    mutating func markTooDeep(_ path: TOMLPath) {
        if tooDeep == nil { tooDeep = .init(line: line, path: Array(path.prefix(8))) }
    }

    static func isBare(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == 0x5F || byte == 0x2D
    }

    static func endsScalar(_ byte: UInt8) -> Bool {
        switch byte {
        case space, tab, newline, carriageReturn, comma, closeBracket, closeBrace, hash: true
        default: false
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: UInt32(byte - 0x30)
        case 0x41...0x46: UInt32(byte - 0x41 + 10)
        case 0x61...0x66: UInt32(byte - 0x61 + 10)
        default: nil
        }
    }
}
