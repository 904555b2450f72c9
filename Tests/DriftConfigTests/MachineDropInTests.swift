import Foundation
import Testing

@testable import DriftConfig

/// Issue 10 §6: `machines.d/*.toml` next to the config file adds `[[machine]]` blocks, in name order, with
/// `FILE:LINE: key:` errors naming the drop-in, duplicates naming both places, and re-read on every load.
@Suite("machines.d drop-ins")
struct MachineDropInTests {
    let environment = ["AKUA_API_TOKEN": sampleToken]

    /// A config directory with `main` as config.toml and an empty machines.d.
    func setUp(_ main: String = "[[machine]]\nid = \"mch_main\"\n") -> (TempDirectory, String, String) {
        let directory = TempDirectory()
        let config = directory.write("config.toml", main)
        let dropIns = directory.makeDirectory("machines.d")
        return (directory, config, dropIns)
    }

    @Test("machines come from the config file first, then the drop-ins in name order; other files are ignored")
    func ordering() throws {
        let (directory, config, _) = setUp()
        directory.write("machines.d/20-b.toml", "[[machine]]\nid = \"mch_b1\"\nname = \"b one\"\n[[machine]]\nid = \"mch_b2\"\ninterval = \"5m\"\n")
        directory.write("machines.d/10-a.toml", "# imported\n[[machine]]\nid = \"mch_a\"\n")
        directory.write("machines.d/9-c.toml", "[[machine]]\nid = \"mch_c\"\n")
        directory.write("machines.d/notes.txt", "[[machine]]\nid = \"mch_txt\"\n")
        directory.write("machines.d/.hidden.toml", "[[machine]]\nid = \"mch_hidden\"\n")
        directory.write("machines.d/30-old.toml.bak", "[[machine]]\nid = \"mch_bak\"\n")
        let result = try #require(loaded(ConfigLoader.load(path: config, environment: environment)))
        // Byte order of names: "10-a" < "20-b" < "9-c".
        #expect(result.config.machines.map(\.id) == ["mch_main", "mch_a", "mch_b1", "mch_b2", "mch_c"])
        #expect(result.config.machines[2].name == "b one")
        #expect(result.config.machines[3].intervalMilliseconds == 300_000)
        #expect(result.warnings.isEmpty)
    }

    @Test("a config file with no machines of its own is fine when the drop-ins have some")
    func machinesOnlyInDropIns() throws {
        let (directory, config, _) = setUp("[schedule]\ninterval = \"10m\"\n")
        #expect(try #require(loaded(ConfigLoader.load(path: config, environment: environment))).warnings.map(\.key) == ["machine"])
        directory.write("machines.d/50-import.toml", "[[machine]]\nid = \"mch_x\"\n")
        let result = try #require(loaded(ConfigLoader.load(path: config, environment: environment)))
        #expect(result.config.machines.map(\.id) == ["mch_x"])
        #expect(result.warnings.isEmpty)
    }

    @Test("errors in a drop-in are FILE:LINE: key: with the drop-in's path")
    func errorsNameTheDropIn() {
        let (directory, config, dropIns) = setUp()
        directory.write("machines.d/10-bad.toml", "[[machine]]\nid = \"mch_ok\"\n\n[[machine]]\nid = \"mch_bad\"\nintervall = \"5m\"\n[[machine]]\nid = \"\"\n")
        directory.write("machines.d/20-syntax.toml", "[[machine]]\nid = \"mch_s\"\nname = \n")
        directory.write("machines.d/30-api.toml", "[api]\nbase_url = \"https://x.example/v1\"\n")
        let lines = errorLines(ConfigLoader.load(path: config, environment: environment))
        #expect(lines.contains { $0.hasPrefix("\(dropIns)/10-bad.toml:6: machine[1].intervall: unknown key \"intervall\"") }, "\(lines)")
        #expect(lines.contains("\(dropIns)/10-bad.toml:8: machine[2].id: must not be empty"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(dropIns)/20-syntax.toml:3: (syntax): ") }, "\(lines)")
        #expect(lines.contains("\(dropIns)/30-api.toml:1: api: unknown key \"api\": a machines.d drop-in holds only [[machine]] blocks"), "\(lines)")
        #expect(!lines.joined().contains(sampleToken))
    }

    @Test("a machine id defined twice is an error naming both places", arguments: [false, true])
    func duplicates(acrossDropIns: Bool) {
        let (directory, config, dropIns) = setUp("[api]\nbase_url = \"https://api.akua.dev/v1\"\n\n[[machine]]\nid = \"mch_a\"\n\n[[machine]]\nid = \"mch_dup\"\n")
        if acrossDropIns {
            directory.write("machines.d/10-first.toml", "\n[[machine]]\nid = \"mch_other\"\n")
            directory.write("machines.d/20-second.toml", "[[machine]]\nid = \"mch_x\"\n[[machine]]\nid = \"mch_other\"\n")
            #expect(errorLines(ConfigLoader.load(path: config, environment: environment)) == [
                "\(dropIns)/20-second.toml:4: machine[1].id: duplicate machine id \"mch_other\" (first defined at \(dropIns)/10-first.toml:3)"
            ])
        } else {
            directory.write("machines.d/10-import.toml", "[[machine]]\nid = \"mch_new\"\n\n[[machine]]\nid = \"mch_dup\"\n")
            #expect(errorLines(ConfigLoader.load(path: config, environment: environment)) == [
                "\(dropIns)/10-import.toml:5: machine[1].id: duplicate machine id \"mch_dup\" (first defined at \(config):8)"
            ])
        }
    }

    @Test("each load re-reads the directory: a new drop-in is picked up, a removed one is gone")
    func reloadPicksUpNewDropIn() throws {
        let (directory, config, dropIns) = setUp()
        #expect(try #require(loaded(ConfigLoader.load(path: config, environment: environment))).config.machines.count == 1)
        directory.write("machines.d/50-new.toml", "[[machine]]\nid = \"mch_new\"\n")
        #expect(try #require(loaded(ConfigLoader.load(path: config, environment: environment))).config.machines.map(\.id) == ["mch_main", "mch_new"])
        try FileManager.default.removeItem(atPath: dropIns + "/50-new.toml")
        #expect(try #require(loaded(ConfigLoader.load(path: config, environment: environment))).config.machines.map(\.id) == ["mch_main"])
    }

    @Test("check-config reports drop-in errors with exit 78 and counts drop-in machines")
    func checkConfig() {
        let (directory, config, dropIns) = setUp()
        directory.write("machines.d/10-a.toml", "[[machine]]\nid = \"mch_a\"\n")
        let good = ConfigCheck.run(path: config, environment: environment)
        #expect(good.exitCode == 0)
        #expect(good.stdout.first?.contains("OK: 2 machines") == true, "\(good.stdout)")
        directory.write("machines.d/20-b.toml", "[[machine]]\nname = \"no id\"\n")
        let bad = ConfigCheck.run(path: config, environment: environment)
        #expect(bad.exitCode == ConfigCheck.exitConfigError)
        #expect(bad.stderr == ["\(dropIns)/20-b.toml:1: machine[0].id: missing required key \"id\""])
    }

    @Test("a machines.d that is not a directory, and relative config paths")
    func oddDirectories() throws {
        let directory = TempDirectory()
        let config = directory.write("config.toml", "[[machine]]\nid = \"mch_main\"\n")
        directory.write("machines.d", "not a directory")
        #expect(errorLines(ConfigLoader.load(path: config, environment: environment)) == ["\(directory.path)/machines.d:0: (file): is not a directory"])
        #expect(MachineDropIns.directory(forConfig: "config.toml") == "machines.d")
        #expect(MachineDropIns.directory(forConfig: "/etc/akua-driftd/config.toml") == "/etc/akua-driftd/machines.d")
    }

    @Test("machines import output round-trips: rendered blocks load as a drop-in and parse with Python's tomllib",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs /usr/bin/python3 (tomllib)"))
    func renderedBlocksRoundTrip() throws {
        let machines = [
            MachineSettings(id: "mch_1", name: "web \"one\" \\ ü"),
            MachineSettings(id: "mch_2", name: "tab\there"),  // a control character: the name is left off
            MachineSettings(id: "has space"),  // not a valid id: left out
            MachineSettings(id: "mch_3"),
        ]
        let (text, skipped) = MachineBlocks.render(machines, header: ["from https://api.example/v1", "3 machines"])
        #expect(skipped == ["has space"])
        let (directory, config, dropIns) = setUp()
        try MachineBlocks.writeAtomically(text, to: dropIns + "/50-import.toml")
        let attributes = try FileManager.default.attributesOfItem(atPath: dropIns + "/50-import.toml")
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dropIns) == ["50-import.toml"], "no temporary file is left")
        let result = try #require(loaded(ConfigLoader.load(path: config, environment: environment)))
        #expect(result.config.machines == [
            MachineSettings(id: "mch_main"), MachineSettings(id: "mch_1", name: "web \"one\" \\ ü"),
            MachineSettings(id: "mch_2"), MachineSettings(id: "mch_3"),
        ])
        _ = directory
        // An independent TOML parser (Python's tomllib) agrees.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],'rb'))))", dropIns + "/50-import.toml"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let parsed = try JSONSerialization.jsonObject(with: data) as? [String: [[String: String]]]
        #expect(parsed?["machine"] == [["id": "mch_1", "name": "web \"one\" \\ ü"], ["id": "mch_2"], ["id": "mch_3"]])
    }
}
