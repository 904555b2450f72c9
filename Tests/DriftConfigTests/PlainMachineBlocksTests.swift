import Foundation
import Testing

@testable import DriftConfig

/// The fast path for plain `[[machine]]` blocks against TOMLKit reading the whole file (the oracle): the
/// same config and the same diagnostics, and the fast path taken exactly where the blocks are plain.
@Suite struct PlainMachineBlocksTests {
    static let header = """
        [api]
        base_url = "https://api.akua.example"

        [schedule]
        interval = "1h"


        """

    /// Config and diagnostics through one path, and whether the fast path read the machines.
    static func load(_ text: String, plain: Bool) -> (config: DaemonConfig?, diagnostics: [ConfigDiagnostic], fast: Bool) {
        let parsed = TOMLDocument.parse(Array(text.utf8), file: "c.toml", plainMachines: plain)
        guard let root = parsed.root else { return (nil, parsed.sink.sorted, false) }
        var validator = ConfigValidator(sink: parsed.sink, environment: [:])
        let config = validator.validate(root, machines: parsed.machines)
        root.clear()
        return (config, validator.sink.sorted, parsed.machines != nil)
    }

    /// Asserts that both paths agree on `text`; returns whether the fast path was taken.
    @discardableResult
    static func agree(_ text: String, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let fast = load(text, plain: true)
        let oracle = load(text, plain: false)
        #expect(!oracle.fast, sourceLocation: sourceLocation)
        #expect(fast.config == oracle.config, comment, sourceLocation: sourceLocation)
        #expect(fast.diagnostics == oracle.diagnostics, comment, sourceLocation: sourceLocation)
        return fast.fast
    }

    @Test func plainBlocksTakeTheFastPathWithTheSameResult() {
        let cases = [
            "[[machine]]\nid = \"mch_a\"\nname = \"A\"\n\n[[machine]]\nid = \"mch_b\"\ninterval = \"30s\"\n",
            "[[machine]]\r\nid = \"mch_a\"\r\nname = \"A\"\r\n",
            "  [[ machine ]]  # first\n\tid\t=\t'mch_a'   # literal\n# between\n\nname = \"Zoë ☃\"\n",
            "[[machine]]\nid = \"mch_a\"\n[[machine]]\nid = \"mch_b\"\n[[webhook]]\nurl = \"https://h.example/x\"\n",
            "[[machine]]\nid = \"mch_a\"\nname = 'a\\b'",  // no newline at the end; backslash in a literal string
            // Problems the validator reports, with lines: duplicate id, too short an interval, empty id, missing id, long name.
            "[[machine]]\nid = \"mch_a\"\n[[machine]]\nid = \"mch_a\"\n",
            "[[machine]]\nid = \"mch_a\"\ninterval = \"10ms\"\n[[machine]]\nid = \"\"\n[[machine]]\nname = \"x\"\n",
            "[[machine]]\nid = \"has space\"\nname = \"\(String(repeating: "n", count: 200))\"\ninterval = \"soon\"\n",
            "[[machine]]\nid = \"a\tb\"\n",
        ]
        for text in cases {
            #expect(Self.agree(Self.header + text, "\(text)"), "fast path not taken: \(text)")
        }
    }

    @Test func anythingElseFallsBackToTOMLKitWithTheSameResult() {
        let cases = [
            "[[machine]]\nid = \"mch_\\u0041\"\n",  // an escape
            "[[machine]]\nid = \"mch_a\"\nlabel = \"x\"\n",  // unknown key
            "[[machine]]\n\"id\" = \"mch_a\"\n",  // quoted key
            "[[machine]]\nid = \"mch_a\"\nid = \"mch_b\"\n",  // key defined twice
            "[[machine]]\nid = \"mch_a\"\n[machine.extra]\nx = 1\n",  // machine extended elsewhere
            "[[machine]]\nid = \"mch_a\"\ninterval = 5\n",  // not a string
            "[[machine]]\nid = \"\"\"mch_a\"\"\"\n",  // multi-line string
            "[[machine]]\nid = \"mch_a\" junk\n",  // syntax error
            "[[machine]]\nid = \"mch_a\nname = \"x\"\n",  // unterminated string
            "[[machine]]\nid = \"mch_a\"\r\rname = \"x\"\n",  // lone carriage return
            "[[machine]]\nid = {a = 1}\n",
            "[[machine]] x\nid = \"mch_a\"\n",
            "[[machine]]\nid = \"mch_a\" # bad \u{7F} comment\n",
            "[[machine]]\nid.x = \"mch_a\"\n",
        ]
        for text in cases {
            #expect(!Self.agree(Self.header + text, "\(text)"), "fast path taken: \(text)")
        }
        // `machine` also defined at the top level (before any table): TOMLKit's error, not the fast path.
        #expect(!Self.agree("machine = 5\n" + Self.header + "[[machine]]\nid = \"mch_a\"\n"))
        // Under [schedule] the same line is schedule.machine: the blocks stay plain, both paths agree.
        #expect(Self.agree(Self.header + "machine = 5\n[[machine]]\nid = \"mch_a\"\n"))
        // A multi-line string in another table holding something that looks like a machine block.
        Self.agree(Self.header.replacingOccurrences(of: "[schedule]", with: "[log]\nlevel = \"\"\"\n[[machine]]\nid = \"x\"\n\"\"\"\n[schedule]")
                   + "[[machine]]\nid = \"mch_a\"\n")
    }

    /// Random files built from plain and not-so-plain lines: both paths always agree.
    @Test func randomBlocksAgree() {
        let seed = UInt64(ProcessInfo.processInfo.environment["AKUA_PLAIN_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("PlainMachineBlocksTests.randomBlocksAgree seed \(seed) (AKUA_PLAIN_SEED replays it)")
        var random = SplitMix64(state: seed)
        let lines = [
            "id = \"mch_%\"", "id = 'mch_%'", "name = \"n%\"", "interval = \"%s\"", "interval = \"1h\"", "# c %", "",
            "id = \"mch_%\" # c", "\tname\t=\t\"x %\"", "id = \"mch_\\u00e9%\"", "name = 5", "foo = \"%\"", "id = \"\"",
            "[[machine]]", "[[ machine ]] # h", "[webhook_x]", "id = \"a b\"", "interval = \"0s\"", "name = \"\"",
        ]
        for round in 0..<300 {
            var text = Self.header
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                text += "[[machine]]\n"
                for _ in 0..<Int.random(in: 0...4, using: &random) {
                    let line = lines[Int.random(in: 0..<lines.count, using: &random)]
                    text += line.replacingOccurrences(of: "%", with: String(Int.random(in: 1...5, using: &random)))
                    text += Bool.random(using: &random) ? "\n" : "\r\n"
                }
            }
            Self.agree(text, "seed \(seed) round \(round):\n\(text)")
        }
    }

    /// The header is 6 lines ("[api]" ... two blank lines, the last without a newline of its own): the
    /// config file's `[[machine]]` is on line 7 and its id on line 8.
    @Test func dropInsTakeTheFastPath() throws {
        let directory = TempDirectory()
        let config = directory.write("config.toml", Self.header + "[[machine]]\nid = \"mch_main\"\n")
        directory.makeDirectory("machines.d")
        directory.write("machines.d/a.toml", "[[machine]]\nid = \"mch_d1\"\n\n[[machine]]\nid = \"mch_d2\"\ninterval = \"2h\"\n")
        directory.write("machines.d/b.toml", "[[machine]]\nid = \"mch_main\"\n")
        let result = ConfigLoader.load(path: config, environment: ["AKUA_API_TOKEN": "t"])
        guard case .failure(let error) = result else {
            Issue.record("a duplicate id across files must be rejected")
            return
        }
        #expect(error.diagnostics.map(\.description) == [
            "\(directory.path)/machines.d/b.toml:2: machine[0].id: duplicate machine id \"mch_main\" (first defined at \(config):8)"
        ])
        let (_, machines) = MachineDropIns.read(directory.path + "/machines.d/a.toml")
        #expect(machines.map { $0.0.id } == ["mch_d1", "mch_d2"])
        #expect(machines.map { $0.0.intervalMilliseconds } == [nil, 7_200_000])
    }
}
