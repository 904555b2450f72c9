import Foundation

/// Seeded config files for fuzzing: generated from the schema with a mix of valid and invalid values,
/// odd formatting and unknown keys, then (half of them) mutated at the byte level.
struct ConfigFuzzer {
    /// Secret files the generated configs may point at (each exists on disk, see `writeSecrets`).
    struct Files {
        var token: String
        var tokenWorldReadable: String
        var tokenWithSpace: String
        var secret: String
        var secretGroupReadable: String
        var secretShort: String
        var emptyFile: String
        var directory: String
        var missing: String
        var statePath: String
    }

    var random: SeededRandom
    let files: Files
    let baseURL: String

    init(seed: UInt64, files: Files, baseURL: String) {
        random = SeededRandom(seed: seed)
        self.files = files
        self.baseURL = baseURL
    }

    /// Writes the secret files into `directory` and returns their paths.
    static func writeSecrets(in directory: String) throws -> Files {
        func write(_ name: String, _ text: String, _ mode: Int) throws -> String {
            let path = directory + "/" + name
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
                throw CocoaError(.fileWriteUnknown)
            }
            return path
        }
        let secret = "whsec_" + Data("fuzz-webhook-secret-0123456789abcdef".utf8).base64EncodedString()
        let files = Files(
            token: try write("token", "sk_akua_fuzz_token\n", 0o600),
            tokenWorldReadable: try write("token-644", "sk_akua_fuzz_token", 0o644),
            tokenWithSpace: try write("token-space", "sk_akua fuzz", 0o600),
            secret: try write("secret", secret, 0o600),
            secretGroupReadable: try write("secret-640", secret, 0o640),
            secretShort: try write("secret-short", "whsec_c2hvcnQ=", 0o600),
            emptyFile: try write("empty", "", 0o600),
            directory: directory,
            missing: directory + "/no-such-file",
            statePath: directory + "/fuzz-state.sqlite")
        return files
    }

    // MARK: Values

    mutating func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A TOML value: mostly strings from `strings`, sometimes another type entirely.
    mutating func value(_ strings: [String]) -> String {
        switch random.int(0...19) {
        case 0: return String(random.int(-5...2_000))
        case 1: return random.unit() < 0.5 ? "true" : "false"
        case 2: return "[" + quoted(random.pick(strings)) + ", 1]"
        case 3: return "{ x = 1 }"
        case 4: return "1979-05-27T07:32:00Z"
        case 5: return "3.25"
        case 6: return "'" + random.pick(strings).replacingOccurrences(of: "'", with: "") + "'"
        default: return quoted(random.pick(strings))
        }
    }

    static let durations = ["30s", "1s", "500ms", "0s", "0ms", "-1s", "15 minutes", "1h30m", "1d", "400d", "", "2h", "10m", "1", "s",
                            "99999999999999999999d", "1.5s", "5m", "100ms", "1h1h"]
    static let machineIDs = ["mch_a", "mch_b", "mch_c", "mch_a", "", String(repeating: "m", count: 55), String(repeating: "m", count: 54),
                             "has space", "tab\there", "é-machine", "mch/slash", "mch?q", "mch_%41", "line\nbreak", "mch_💥", ".", ".."]
    static let names = ["web-1", "", String(repeating: "n", count: 129), "db primary", "ctl\u{1}x", "ünïcode"]
    static let events = ["drifted", "in_sync", "unknown", "drift", "insync", "", "DRIFTED"]
    static let unknownKeys = ["timout", "intervall", "tokenfile", "url", "tls_verify", "insecure_skip_verify", "verify_tls", "extra", "id"]

    mutating func urls(webhook: Bool) -> [String] {
        [baseURL, "https://api.akua.dev/v1", "https://api.akua.dev/v1/", "http://hooks.example.invalid/x", "ftp://127.0.0.1/",
         "", "127.0.0.1:8080", "https://[::1]:99999/", "https://[::1]:8443/h", "http://user:pw@127.0.0.1/",
         "https://h.example.invalid/v1?x=1", "https://h.example.invalid/#f", "http://localhost:9/hook", "https://ünïcode.invalid/",
         "http://127.0.0.1:0/", "https://a b/", webhook ? "http://127.0.0.1:9/hook" : "http://[::1]:9/v1"]
    }

    mutating func secretPaths(token: Bool) -> [String] {
        token
            ? [files.token, files.token, files.tokenWorldReadable, files.tokenWithSpace, files.emptyFile, files.directory, files.missing, ""]
            : [files.secret, files.secret, files.secretGroupReadable, files.secretShort, files.token, files.emptyFile, files.missing, ""]
    }

    // MARK: Files

    static let validDurations = ["30s", "1s", "500ms", "2h", "10m", "5m", "1h30m", "1d", "100ms"]
    static let validIntervals = ["30s", "1s", "2h", "10m", "5m", "1h30m", "1d"]

    /// One generated config file: `valid` keeps to values the schema accepts (so that the accepting
    /// paths are exercised too), otherwise anything goes.
    mutating func generate(valid: Bool) -> String {
        var lines: [String] = []
        func comment() { if random.unit() < 0.15 { lines.append("# comment \(random.int(0...99))") } }
        func key(_ name: String, _ value: String) {
            comment()
            if !valid, random.unit() < 0.05 { return }
            lines.append(random.unit() < 0.1 ? "\(name)=\(value)" : "\(name) = \(value)")
        }
        /// A valid value from `good`, or (when not `valid`) anything from `any`.
        func pick(_ good: [String], _ any: [String]) -> String {
            valid ? quoted(random.pick(good)) : value(any)
        }
        func unknown() {
            if !valid, random.unit() < 0.08 { key(random.pick(Self.unknownKeys), value(["x", "false", "1s"])) }
        }
        if valid || random.unit() < 0.9 {
            lines.append(!valid && random.unit() < 0.05 ? "[API]" : "[api]")
            if valid || random.unit() < 0.9 { key("base_url", pick([baseURL, "https://api.akua.dev/v1"], urls(webhook: false))) }
            if valid || random.unit() < 0.85 { key("token_file", pick([files.token, files.tokenWorldReadable], secretPaths(token: true))) }
            if random.unit() < 0.3 { key("context", pick(["ws_abc"], ["ws_abc", "", String(repeating: "c", count: 60), "with space", "ws_ü"])) }
            if random.unit() < 0.4 { key("timeout", pick(Self.validDurations, Self.durations)) }
            if random.unit() < 0.4 {
                key("max_in_flight", valid || random.unit() < 0.8
                    ? String(random.pick(valid ? [1, 8, 64, 1_024] : [1, 8, 0, 1_024, 1_025, -1, 64])) : value(["8"]))
            }
            if random.unit() < 0.1 { key("allow_insecure_http", valid || random.unit() < 0.7 ? "true" : value(["yes"])) }
            unknown()
        }
        if random.unit() < 0.7 {
            lines.append("[schedule]")
            if random.unit() < 0.8 { key("interval", pick(Self.validIntervals, Self.durations)) }
            if random.unit() < 0.4 { key("refresh_before_expiry", pick(Self.validDurations + ["0s"], Self.durations)) }
            if random.unit() < 0.4 { key("catch_up_window", pick(Self.validDurations + ["0s"], Self.durations)) }
            if random.unit() < 0.3 { key("trigger", pick(["schedule", "manual"], ["schedule", "", String(repeating: "t", count: 65), "tab\there", "manual"])) }
            unknown()
        }
        if random.unit() < 0.6 {
            lines.append("[state]")
            key("path", pick([files.statePath], [files.statePath, files.statePath, "", files.directory + "/", "relative.sqlite"]))
            unknown()
        }
        for index in 0..<random.int(0...2) {
            lines.append(!valid && random.unit() < 0.05 ? "[webhook]" : "[[webhook]]")
            if valid || random.unit() < 0.9 {
                key("url", pick(["http://127.0.0.1:9/hook\(index)", "https://hooks.example.invalid/\(index)", "http://localhost:9/h\(index)"], urls(webhook: true)))
            }
            if valid || random.unit() < 0.8 { key("secret_file", pick([files.secret, files.secretGroupReadable], secretPaths(token: false))) }
            if random.unit() < 0.4 {
                let names = valid ? ["drifted", "in_sync", "unknown"] : Self.events
                let list = (0..<random.int(valid ? 1...3 : 0...3)).map { _ in quoted(random.pick(names)) }
                key("events", valid || random.unit() < 0.85 ? "[" + list.joined(separator: ", ") + "]" : value(["drifted"]))
            }
            if random.unit() < 0.3 { key("timeout", pick(Self.validDurations, Self.durations)) }
            if random.unit() < 0.3 { key("name", pick(["slack", "pager duty"], Self.names)) }
            if random.unit() < 0.1 { key("allow_insecure_http", "true") }
            unknown()
        }
        for index in 0..<random.int(0...4) {
            if !valid, random.unit() < 0.1 {
                lines.append("machine = [{ id = \(quoted(random.pick(Self.machineIDs))) }]")
                continue
            }
            lines.append("[[machine]]")
            if valid || random.unit() < 0.92 { key("id", pick(["mch_\(index)_\(random.int(0...9))"], Self.machineIDs)) }
            if random.unit() < 0.4 { key("name", pick(["web-\(index)", "db primary"], Self.names)) }
            if random.unit() < 0.3 { key("interval", pick(Self.validIntervals, Self.durations)) }
            unknown()
        }
        if !valid, random.unit() < 0.05 { lines.append("[unknown_table]\nx = 1") }
        if random.unit() < 0.03 { lines.insert("\u{FEFF}", at: 0) }
        let separator = random.unit() < 0.1 ? "\r\n" : "\n"
        return lines.joined(separator: separator) + (random.unit() < 0.9 ? separator : "")
    }

    static let fragments: [[UInt8]] = [
        "[", "]", "[[", "]]", "\"", "'", "\"\"\"", "'''", "=", "\n", "#", ".", ",", "{", "}", "\\", "\\u0000", "\\U0010FFFF",
        "\\uD800", "0", "-1", "1e400", "99999999999999999999", "true", "nan", "inf", "1979-05-27 07:32:00Z", "[[machine]]\nid = \"x\"\n",
        "[api]\n", "http://", "whsec_", "= [", "= {", "a.b.c.d.e = 1\n", "\u{2028}", "é", "\u{FEFF}", "\r", "\t",
        String(repeating: "[", count: 300), String(repeating: "{a=", count: 200),
    ].map { Array($0.utf8) } + [[0], [0xFF], [0xC3], [0xE2, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x7F], [0x1B]]

    /// Byte-level mutations: flips, inserted bytes and fragments, deletions, duplications, truncation.
    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0..<random.int(1...6) {
            let position = bytes.isEmpty ? 0 : random.int(0...bytes.count)
            switch random.int(0...7) {
            case 0 where position < bytes.count: bytes[position] ^= UInt8(1 << random.int(0...7))
            case 1: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
            case 2, 3: bytes.insert(contentsOf: random.pick(Self.fragments), at: position)
            case 4 where position < bytes.count: bytes.removeSubrange(position..<min(bytes.count, position + random.int(1...16)))
            case 5 where position < bytes.count:
                let end = min(bytes.count, position + random.int(1...64))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 6: bytes.removeSubrange(position..<bytes.count)
            default: bytes.insert(contentsOf: Array(quoted(random.pick(Self.machineIDs)).utf8), at: position)
            }
        }
        return bytes
    }

    /// The next fuzz input: a third generated from valid values only (a few of those mutated), the rest
    /// generated from anything, half of those mutated.
    mutating func next() -> [UInt8] {
        if random.unit() < 0.33 {
            let text = Array(generate(valid: true).utf8)
            return random.unit() < 0.15 ? mutate(text) : text
        }
        let text = Array(generate(valid: false).utf8)
        return random.unit() < 0.5 ? text : mutate(text)
    }
}
