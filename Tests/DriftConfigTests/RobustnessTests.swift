import Foundation
import Testing

@testable import DriftConfig

/// Deterministic PRNG so fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct RobustnessTests {
    static let richConfig = """
        # comment
        [api]
        base_url = "http://127.0.0.1:8080/v1"
        token_file = "/t"
        context = "ws_abc"
        timeout = "30s"
        max_in_flight = 8
        [schedule]
        interval = "15m"
        refresh_before_expiry = "1m"
        catch_up_window = "1m"
        trigger = "schedule"
        [state]
        path = "/var/lib/x/state.sqlite"
        [notify]
        confirm = 2
        for = "10m"
        repeat_interval = "4h"
        ignore_attributes = ["memory_mb"]
        group_wait = "30s"
        [[webhook]]
        url = "https://hooks.example.com/a"
        secret_file = "/s"
        events = ["drifted", "in_sync", "unknown"]
        timeout = "10s"
        name = "slack"
        group_wait = "0"
        [[machine]]
        id = "mch_a"
        name = "web-1"
        interval = "5m"
        confirm = 3
        ignore_attributes = ["cpu"]
        [[maintenance]]
        machines = ["mch_a"]
        days = ["sat", "sun"]
        from = "22:00"
        to = "04:00"
        timezone = "Europe/Berlin"
        [[machine]]
        id = "mch_b"
        machine2 = { id = "x", list = [1, 2, [3]] }
        multi = \"\"\"
        [not a table]
        \"\"\"
        """

    static let fragments: [[UInt8]] = [
        "[", "]", "[[", "]]", "\"", "'", "\"\"\"", "'''", "=", "\n", "#", ".", ",", "{", "}", "\\", "\\u0000", "\\U0010FFFF",
        "\\uD800", "0", "-1", "1e400", "99999999999999999999", "true", "nan", "inf", "1979-05-27 07:32:00Z", "machine",
        "webhook", "api", "interval", "id", " ", "\t", "\r\n", "\r", "[[machine]]\nid = \"x\"\n", "[api]\n", "http://",
        "https://[::1]:0/", "whsec_", "0x7FFFFFFFFFFFFFFF", "\"1h30m\"", "\"500ms\"", "= [", "= {", "a.b.c.d.e = 1\n",
        "\u{2028}", "é", "\u{FEFF}", "[[maintenance]]\n", "[notify]\n", "\"0\"", "\"23:59\"", "02:00:00", "\"sun\"",
    ].map { Array($0.utf8) } + [[0], [0xFF], [0xC3], [0xE2, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x7F], [0x1B]]

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        let rounds = 1 + Int(rng.next() % 6)
        for _ in 0..<rounds {
            let position = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count + 1))
            switch rng.next() % 8 {
            case 0 where !bytes.isEmpty && position < bytes.count:
                bytes[position] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
            case 1:
                bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
            case 2, 3:
                bytes.insert(contentsOf: fragments[Int(rng.next() % UInt64(fragments.count))], at: position)
            case 4 where position < bytes.count:
                let end = min(bytes.count, position + 1 + Int(rng.next() % 16))
                bytes.removeSubrange(position..<end)
            case 5 where position < bytes.count:
                let end = min(bytes.count, position + 1 + Int(rng.next() % 64))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 6:
                bytes.removeSubrange(position..<bytes.count)
            default:
                if let newline = bytes[position...].firstIndex(of: 0x0A) {
                    bytes.insert(contentsOf: [0x23, 0x20], at: newline + 1)  // comment out the next line
                }
            }
        }
        return bytes
    }

    @Test func mutatedConfigsAlwaysGiveAConfigOrLineNumberedDiagnostics() throws {
        let example = Array(try String(contentsOfFile: repositoryRoot + "/config/akua-driftd.toml", encoding: .utf8).utf8)
        let seeds = [example, Array(Self.richConfig.utf8)]
        let files: [String: FileReadResult] = [
            "/t": secretFile(sampleToken + "\n", mode: 0o644), "/s": secretFile(sampleWebhookSecret + "\n"),
        ]
        // Longer campaigns: DRIFTCONFIG_FUZZ_ITERATIONS=200000 DRIFTCONFIG_FUZZ_SEED=7, and
        // DRIFTCONFIG_FUZZ_DUMP=/tmp/x.bin to keep the input being parsed (for a crash in C++ code).
        let environment = ProcessInfo.processInfo.environment
        let iterations = environment["DRIFTCONFIG_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 3_000
        let dumpPath = environment["DRIFTCONFIG_FUZZ_DUMP"]
        var rng = SplitMix64(state: environment["DRIFTCONFIG_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xD21F_7C0F_1C)
        var successes = 0
        var failures = 0
        var problems: [String] = []
        let pattern = try Regex(#"^fuzz\.toml:[0-9]+: [^ ].*$"#)
        for iteration in 0..<iterations {
            let input = Self.mutate(seeds[iteration % seeds.count], &rng)
            if let dump = dumpPath { _ = FileManager.default.createFile(atPath: dump, contents: Data(input)) }
            let lineCount = input.filter { $0 == 0x0A }.count + 1
            let result = ConfigLoader.parse(
                bytes: input, file: "fuzz.toml", environment: ["AKUA_API_TOKEN": sampleToken, "CREDENTIALS_DIRECTORY": "/c"]
            ) { files[$0] ?? .missing }
            let diagnostics: [ConfigDiagnostic]
            switch result {
            case .success(let loaded):
                successes += 1
                diagnostics = loaded.warnings
                if Set(loaded.config.machines.map(\.id)).count != loaded.config.machines.count {
                    problems.append("#\(iteration): duplicate machine ids accepted")
                }
                if loaded.webhookSecrets.count != loaded.config.webhooks.count {
                    problems.append("#\(iteration): webhook secrets not parallel")
                }
            case .failure(let error):
                failures += 1
                diagnostics = error.diagnostics
                if error.errors.isEmpty { problems.append("#\(iteration): failure without an error") }
            }
            for diagnostic in diagnostics {
                let text = diagnostic.description
                if text.wholeMatch(of: pattern) == nil || text.contains("\n") || text.contains("\r") {
                    problems.append("#\(iteration): malformed diagnostic \(text.debugDescription)")
                }
                if diagnostic.line < 0 || diagnostic.line > lineCount {
                    problems.append("#\(iteration): line \(diagnostic.line) outside 0...\(lineCount): \(text)")
                }
                if text.contains(sampleToken) || text.contains(sampleWebhookSecret) {
                    problems.append("#\(iteration): secret leaked: \(text)")
                }
            }
            if problems.count > 10 { break }
        }
        #expect(problems.isEmpty, "\(problems.prefix(10).joined(separator: "\n"))")
        #expect(successes > 50 && failures > 50, "successes \(successes), failures \(failures)")
    }

    @Test func malformedTableHeadersNeverReachTOMLKit() {
        // toml++ asserts that a header key starts with a key character; these must be caught first.
        #expect(errorLines(parseConfig("[api]\n[}state]\n")) == [
            "c.toml:2: (syntax): Error while parsing table header: expected a key after '[' (column 2)"
        ])
        #expect(errorLines(parseConfig("a = \"\"\"\nx\"\"\"\n[[ \t=x]]\n")) == [
            "c.toml:3: (syntax): Error while parsing table header: expected a key after '[' (column 5)"
        ])
        #expect(errorLines(parseConfig("a = [1,\n  # c\n  }]\n")) == [
            "c.toml:3: (syntax): Error while parsing array: expected value or closing ']', saw '}' (column 3)"
        ])
        #expect(errorLines(parseConfig("a = [[}]]")).count == 1)
        for separator in ["\u{2028}", "\u{2029}", "\u{85}", "\u{A0}", "é"] {
            #expect(errorLines(parseConfig("a = [1, \(separator)2]")) == [
                "c.toml:1: (syntax): Error while parsing array: expected value or closing ']', saw a non-ASCII character (column 9)"
            ])
        }
        #expect(errorLines(parseConfig("a = { b = [ } ] }")).count == 1)
        for text in ["[é]", "[[\u{7F}]]", "[ ,]", "[.a]", "[=]", "[#]", "[\t{]", "[[[a]]]", "[ [a]]"] {
            #expect(errorLines(parseConfig(text)).count == 1, "\(text)")
        }
    }

    @Test func deepNestingIsRejectedQuickly() {
        let cases: [(String, String)] = [
            ("a = " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), "c.toml:1: a"),
            ("a = " + String(repeating: "[", count: 1_000_000), "c.toml:1: a"),
            ("\n[" + Array(repeating: "a", count: 100_000).joined(separator: ".") + "]\n", "c.toml:2: a.a.a.a.a.a.a.a"),
            (Array(repeating: "b", count: 100_000).joined(separator: ".") + " = 1", "c.toml:1: b.b.b.b.b.b.b.b"),
            ("x = " + String(repeating: "{a=", count: 10_000) + "1" + String(repeating: "}", count: 10_000), "c.toml:1: x.a.a.a.a.a.a.a"),
        ]
        for (text, prefix) in cases {
            let lines = errorLines(parseConfig(text))
            #expect(lines.count == 1)
            #expect(lines.first?.hasPrefix(prefix) == true, "\(lines.first ?? "")")
            #expect(lines.first?.hasSuffix("nested more than 64 levels deep") == true)
        }
    }

    @Test func floodsOfErrorsAreCapped() {
        let text = "machine = [" + Array(repeating: "1", count: 100_000).joined(separator: ", ") + "]\n"
        let lines = errorLines(parseConfig(text))
        #expect(lines.count == 501)
        #expect(lines.first == "c.toml:1: machine[0]: expected a table, got integer")
        #expect(lines.last == "c.toml:0: (file): 99500 more problems not shown")
    }

    @Test func hugeNumbers() {
        #expect(errorLines(parseConfig("[api]\nmax_in_flight = 99999999999999999999\n")) == [
            "c.toml:2: (syntax): Error while parsing decimal integer: '99999999999999999999' is not representable in 64 bits (column 37)"
        ])
        #expect(errorLines(parseConfig("[api]\nmax_in_flight = 9223372036854775807\n")) == [
            "c.toml:2: api.max_in_flight: must be between 1 and 1024, got 9223372036854775807"
        ])
        #expect(errorLines(parseConfig("[api]\nmax_in_flight = -9223372036854775808\n")) == [
            "c.toml:2: api.max_in_flight: must be between 1 and 1024, got -9223372036854775808"
        ])
        #expect(errorLines(parseConfig("[api]\nmax_in_flight = 1e308\n")) == [
            "c.toml:2: api.max_in_flight: expected an integer, got float"
        ])
        #expect(errorLines(parseConfig("[schedule]\ninterval = \"9223372036854775807ms\"\n")) == [
            #"c.toml:2: schedule.interval: must be at most 365d, got "9223372036854775807ms""#
        ])
    }

    @Test func tenMegabyteFiles() throws {
        let directory = TempDirectory()
        // 10 MB of comments, then one error.
        let comment = String(repeating: "#" + String(repeating: "x", count: 99) + "\n", count: 100_000)
        let commented = directory.write("comments.toml", comment + "[api]\ntimeout = 5\n")
        #expect(ConfigCheck.run(path: commented, environment: ["AKUA_API_TOKEN": "t"]).stderr == [
            #"\#(commented):100002: api.timeout: expected a duration string such as "30s", got integer"#
        ])
        // A 10 MB single string value.
        let longValue = directory.write("long.toml", "[schedule]\ntrigger = \"" + String(repeating: "y", count: 10_000_000) + "\"\n")
        #expect(ConfigCheck.run(path: longValue, environment: ["AKUA_API_TOKEN": "t"]).stderr == [
            "\(longValue):2: schedule.trigger: is too long (10000000 characters; at most 64)"
        ])
        // ~10 MB of machines (with a duplicate at the end).
        var machines = ""
        for index in 0..<120_000 { machines += "[[machine]]\nid = \"mch_\(index)\"\nname = \"n\(index)\"\n\n" }
        machines += "[[machine]]\nid = \"mch_7\"\n"
        let many = directory.write("many.toml", machines)
        #expect(ConfigCheck.run(path: many, environment: ["AKUA_API_TOKEN": "t"]).stderr == [
            #"\#(many):480002: machine[120000].id: duplicate machine id "mch_7" (first defined at line 30)"#
        ])
        // Over the size limit (256 MiB, README): refused without reading (a sparse file, so nothing is written).
        let huge = directory.write("huge.toml", "")
        #expect(truncate(huge, 256 * 1024 * 1024 + 1) == 0)
        #expect(ConfigCheck.run(path: huge, environment: [:]).stderr == [
            "\(huge):0: (file): cannot read: file is too large (268435457 bytes; the limit is 268435456)"
        ])
    }

    @Test func controlCharactersStayOnOneLine() {
        let lines = errorLines(parseConfig("[schedule]\ninterval = \"1\\n2\"\ntrigger = \"a\\u001b[31mb\"\n"))
        #expect(lines == [
            #"c.toml:2: schedule.interval: invalid duration "1\n2" (use e.g. "500ms", "30s", "15m", "1h30m", "1d")"#,
            "c.toml:3: schedule.trigger: must not contain control characters",
        ])
    }
}
