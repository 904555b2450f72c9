import DriftCore
import Foundation
import Testing

@testable import DriftConfig

/// Issue 11 §2: `[[maintenance]]` blocks as `check-config` and every load see them: values, defaults,
/// machine ids checked against every machine (drop-ins too), and `FILE:LINE: key: message` errors.
@Suite("Maintenance windows in the config")
struct MaintenanceConfigTests {
    static let machines = "[[machine]]\nid = \"mch_a\"\n[[machine]]\nid = \"mch_b\"\n"

    func errors(_ text: String) -> [String] {
        errorLines(parseConfig(Self.machines + text))
    }

    @Test("a window's values, and its defaults: every machine, UTC")
    func values() throws {
        let config = try parseConfig(Self.machines + """
            [[maintenance]]
            machines = ["mch_b", "mch_a"]
            days = ["sun", "sat"]
            from = "02:00"
            to = "04:30"
            timezone = "Europe/Berlin"

            [[maintenance]]
            days = ["fri"]
            from = "22:00"
            to = "01:00"

            [[maintenance]]
            days = ["mon"]
            from = 06:15:00
            to = 07:00:00
            """).get().config
        #expect(config.maintenance.count == 3)
        let first = config.maintenance[0]
        #expect(first.number == 1)
        #expect(first.machineIDs == ["mch_b", "mch_a"])
        #expect(first.days == [.sat, .sun])
        #expect(first.fromMinute == 120)
        #expect(first.toMinute == 270)
        #expect(first.timeZoneName == "Europe/Berlin")
        #expect(!first.crossesMidnight)
        #expect(first.description == "maintenance window 1 (sat,sun 02:00-04:30 Europe/Berlin)")
        let second = config.maintenance[1]
        #expect(second.machineIDs == nil)
        #expect(second.appliesTo(machineID: "mch_anything"))
        #expect(second.timeZoneName == "UTC")
        #expect(second.crossesMidnight)
        #expect(second.description == "maintenance window 2 (fri 22:00-01:00 UTC)")
        #expect(config.maintenance[2].description == "maintenance window 3 (mon 06:15-07:00 UTC)")
        #expect(config.maintenanceSchedule.windows == config.maintenance)
    }

    @Test("each bad entry is FILE:LINE: key: message")
    func errorMessages() {
        // The machines take lines 1-4; the window starts on line 5.
        let valid = ["days = [\"sat\"]", "from = \"02:00\"", "to = \"04:00\""]
        func window(_ lines: [String]) -> String { "[[maintenance]]\n" + lines.joined(separator: "\n") + "\n" }
        let cases: [([String], String)] = [
            (["from = \"02:00\"", "to = \"04:00\""], "c.toml:5: maintenance[0].days: missing required key \"days\" (the days a window starts on, e.g. [\"sat\", \"sun\"])"),
            (["days = []", "from = \"02:00\"", "to = \"04:00\""], "c.toml:6: maintenance[0].days: must list at least one day (\"mon\" ... \"sun\")"),
            (["days = [\"saturday\"]", "from = \"02:00\"", "to = \"04:00\""], "c.toml:6: maintenance[0].days[0]: unknown day \"saturday\"; did you mean \"sat\"?"),
            (["days = [\"sa\"]", "from = \"02:00\"", "to = \"04:00\""],
             "c.toml:6: maintenance[0].days[0]: unknown day \"sa\" (use \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\")"),
            (["days = [\"sat\", \"sat\"]", "from = \"02:00\"", "to = \"04:00\""], "c.toml:6: maintenance[0].days[1]: day \"sat\" is listed twice"),
            (["days = \"sat\"", "from = \"02:00\"", "to = \"04:00\""], "c.toml:6: maintenance[0].days: expected an array of days (\"mon\" ... \"sun\"), got string"),
            (["days = [\"sat\"]", "to = \"04:00\""], "c.toml:5: maintenance[0].from: missing required key \"from\" (a local time \"HH:MM\")"),
            (["days = [\"sat\"]", "from = \"2:00\"", "to = \"04:00\""],
             "c.toml:7: maintenance[0].from: invalid time \"2:00\" (use \"HH:MM\", 24-hour, e.g. \"02:00\" or \"22:30\")"),
            (["days = [\"sat\"]", "from = \"02:00\"", "to = \"24:00\""],
             "c.toml:8: maintenance[0].to: invalid time \"24:00\" (write \"00:00\": a to earlier than from ends the next day)"),
            (["days = [\"sat\"]", "from = \"02:60\"", "to = \"04:00\""], "c.toml:7: maintenance[0].from: invalid time \"02:60\" (hours 00-23, minutes 00-59)"),
            (["days = [\"sat\"]", "from = 02:00:30", "to = \"04:00\""], "c.toml:7: maintenance[0].from: must be a whole minute \"HH:MM\""),
            (["days = [\"sat\"]", "from = 2", "to = \"04:00\""], "c.toml:7: maintenance[0].from: expected a local time \"HH:MM\", got integer"),
            (["days = [\"sat\"]", "from = \"02:00\"", "to = \"02:00\""],
             "c.toml:8: maintenance[0].to: equals from (02:00): the window would be empty (a to earlier than from ends the next day)"),
            (valid + ["timezone = \"Mars/Phobos\""],
             "c.toml:9: maintenance[0].timezone: unknown time zone \"Mars/Phobos\" (use an IANA name such as \"Europe/Berlin\" or \"UTC\")"),
            (valid + ["timezone = \"GMT+1\""],
             "c.toml:9: maintenance[0].timezone: unknown time zone \"GMT+1\" (use an IANA name such as \"Europe/Berlin\" or \"UTC\")"),
            (valid + ["timezone = \"europe/berlin\""],
             "c.toml:9: maintenance[0].timezone: unknown time zone \"europe/berlin\" (use an IANA name such as \"Europe/Berlin\" or \"UTC\")"),
            (valid + ["machines = []"], "c.toml:9: maintenance[0].machines: must list at least one machine id (or leave it out for every machine)"),
            (valid + ["machines = [\"mch_a\", \"mch_a\"]"], "c.toml:9: maintenance[0].machines[1]: machine \"mch_a\" is listed twice"),
            (valid + ["machines = [\"mch_a\", \"mch_zz\"]"],
             "c.toml:9: maintenance[0].machines[1]: unknown machine id \"mch_zz\": no [[machine]] block (here or in machines.d) has it"),
            (valid + ["machine = [\"mch_a\"]"], "c.toml:9: maintenance[0].machine: unknown key \"machine\"; did you mean \"machines\"?"),
        ]
        for (lines, expected) in cases {
            #expect(errors(window(lines)) == [expected], "\(lines)")
        }
        // At the top (after the machines a key would be the last machine's).
        #expect(errorLines(parseConfig("maintenance = 1\n" + Self.machines))
            == ["c.toml:1: maintenance: expected an array of tables ([[maintenance]] for each entry), got integer"])
        #expect(errorLines(parseConfig("days = [\"sat\"]\n" + Self.machines))
            == ["c.toml:1: days: unknown key \"days\"; did you mean to put it under [[maintenance]]?"])
    }

    @Test("machine ids may come from machines.d; an unknown one is named with the config file's line, by check-config too")
    func machineIDsAcrossDropIns() throws {
        let directory = TempDirectory()
        let main = """
            [[machine]]
            id = "mch_main"

            [[maintenance]]
            machines = ["mch_main", "mch_dropin"]
            days = ["sat"]
            from = "02:00"
            to = "04:00"

            """
        let config = directory.write("config.toml", main)
        let environment = ["AKUA_API_TOKEN": sampleToken]
        let missing = "\(config):5: maintenance[0].machines[1]: unknown machine id \"mch_dropin\": no [[machine]] block (here or in machines.d) has it"
        #expect(errorLines(ConfigLoader.load(path: config, environment: environment)) == [missing])
        let check = ConfigCheck.run(path: config, environment: environment)
        #expect(check.exitCode == ConfigCheck.exitConfigError)
        #expect(check.stderr == [missing])
        if case .failure(let error) = ConfigLoader.loadSettings(path: config, environment: [:]) {
            #expect(error.diagnostics.map(\.description) == [missing], "status and the other settings-only loads check it too")
        } else {
            Issue.record("a settings-only load accepted an unknown machine id")
        }

        directory.makeDirectory("machines.d")
        directory.write("machines.d/50-import.toml", "[[machine]]\nid = \"mch_dropin\"\n")
        let loaded = try ConfigLoader.load(path: config, environment: environment).get()
        #expect(loaded.config.maintenance.first?.machineIDs == ["mch_main", "mch_dropin"])
        #expect(ConfigCheck.run(path: config, environment: environment).exitCode == 0)
    }

    @Test("check-config reports every bad policy key of a file at once")
    func checkConfigReportsAll() {
        let directory = TempDirectory()
        let config = directory.write("config.toml", """
            [notify]
            confirm = 0
            [[machine]]
            id = "mch_a"
            for = "8d"
            [[maintenance]]
            days = ["sat"]
            from = "02:00"
            to = "02:00"
            timezone = "Nowhere/City"

            """)
        let check = ConfigCheck.run(path: config, environment: ["AKUA_API_TOKEN": sampleToken])
        #expect(check.exitCode == ConfigCheck.exitConfigError)
        #expect(check.stderr == [
            "\(config):2: notify.confirm: must be between 1 and 100, got 0",
            "\(config):5: machine[0].for: must be at most 7d, got \"8d\"",
            "\(config):9: maintenance[0].to: equals from (02:00): the window would be empty (a to earlier than from ends the next day)",
            "\(config):10: maintenance[0].timezone: unknown time zone \"Nowhere/City\" (use an IANA name such as \"Europe/Berlin\" or \"UTC\")",
        ])
    }
}
