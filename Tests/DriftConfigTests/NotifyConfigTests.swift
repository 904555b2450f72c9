import DriftCore
import Foundation
import Testing

@testable import DriftConfig

/// Issue 11 §2: the notification policy keys in `[notify]`, `[[webhook]]` and `[[machine]]` (drop-ins
/// too), how they resolve per webhook and machine (notify-spec.md: machine > webhook > [notify],
/// ignore_attributes adds up, group_wait 30 s by default for Slack and Teams only), and their errors.
@Suite("Notification policy keys")
struct NotifyConfigTests {
    static let machine = "\n[[machine]]\nid = \"mch_a\"\n"
    static let slack = "[[webhook]]\nurl = \"https://hooks.slack.com/services/T0/B0/x\"\nformat = \"slack\"\n"
    static let pagerDuty = "[[webhook]]\nurl = \"https://events.pagerduty.com/v2/enqueue\"\nformat = \"pagerduty\"\n"
    static let standard = "[[webhook]]\nurl = \"https://hooks.example.com/a\"\n"
    static let files: [String: FileReadResult] = [
        "/etc/akua-driftd/webhook.secret": secretFile(sampleWebhookSecret + "\n"),
        "/etc/akua-driftd/pagerduty.key": secretFile("0123456789abcdef0123456789abcdef\n"),
    ]

    func load(_ text: String) throws -> LoadedConfig {
        try parseConfig(text, files: Self.files).get()
    }

    func errors(_ text: String) -> [String] {
        errorLines(parseConfig(text, files: Self.files))
    }

    @Test("without any key every webhook announces at once, one message per change, except Slack and Teams (30 s groups)")
    func defaults() throws {
        let config = try load(
            Self.standard + "secret_file = \"/etc/akua-driftd/webhook.secret\"\n" + Self.slack
                + "[[webhook]]\nurl = \"https://example.webhook.office.com/workflows/1\"\nformat = \"teams\"\n" + Self.pagerDuty
                + "routing_key_file = \"/etc/akua-driftd/pagerduty.key\"\n" + Self.machine
        ).config
        #expect(config.notify.isEmpty)
        #expect(config.maintenance.isEmpty)
        #expect(config.webhooks.allSatisfy { $0.notify.isEmpty })
        #expect(config.machines.allSatisfy { $0.notify.isEmpty })
        let rules = config.webhooks.map { config.notifyRules(webhook: $0, machine: config.machines.first) }
        #expect(rules.map(\.isImmediate) == [true, false, false, true])
        #expect(rules.map(\.groupWaitMs) == [0, 30_000, 30_000, 0])
        #expect(rules[1] == NotifyRules(groupWaitMs: 30_000))
        #expect(WebhookFormat.allCases.filter { $0.defaultGroupWaitMs > 0 } == [.slack, .teams])
    }

    @Test("[notify] sets every key; a webhook overrides it, a machine overrides both; ignore_attributes adds up")
    func resolution() throws {
        let config = try load("""
            [notify]
            confirm = 2
            for = "10m"
            repeat_interval = "4h"
            ignore_attributes = ["memory_mb"]
            group_wait = "45s"

            \(Self.slack)confirm = 3
            repeat_interval = "0"
            ignore_attributes = ["disk_gb"]
            events = ["drifted", "drift_changed"]

            \(Self.pagerDuty)routing_key_file = "/etc/akua-driftd/pagerduty.key"
            for = "0"

            [[machine]]
            id = "mch_a"
            for = "1h30m"
            repeat_interval = "1d"
            ignore_attributes = ["cpu_count", "memory_mb"]

            [[machine]]
            id = "mch_b"
            confirm = 1
            """)
        let c = config.config
        #expect(c.notify == NotifyOverrides(
            confirmReports: 2, confirmForMs: 600_000, repeatIntervalMs: .some(14_400_000), ignoreAttributes: ["memory_mb"],
            groupWaitMs: 45_000))
        #expect(c.webhooks[0].notify == NotifyOverrides(confirmReports: 3, repeatIntervalMs: .some(nil), ignoreAttributes: ["disk_gb"]))
        #expect(c.webhooks[1].notify == NotifyOverrides(confirmForMs: 0))
        #expect(c.machines[0].notify == NotifyOverrides(
            confirmForMs: 5_400_000, repeatIntervalMs: .some(86_400_000), ignoreAttributes: ["cpu_count", "memory_mb"]))
        #expect(c.machines[1].notify == NotifyOverrides(confirmReports: 1))

        let (slack, pagerDuty) = (c.webhooks[0], c.webhooks[1])
        let (a, b) = (c.machines[0], c.machines[1])
        // Slack, machine a: confirm from the webhook (3), for and reminders from the machine, the three
        // ignore lists together, group_wait from [notify], drift_changed from events.
        #expect(c.notifyRules(webhook: slack, machine: a) == NotifyRules(
            confirmReports: 3, confirmForMs: 5_400_000, repeatIntervalMs: 86_400_000, driftChanged: true,
            ignoreAttributes: ["memory_mb", "disk_gb", "cpu_count"], groupWaitMs: 45_000))
        // Slack, machine b: the machine's confirm = 1 wins; reminders off by the webhook's "0".
        #expect(c.notifyRules(webhook: slack, machine: b) == NotifyRules(
            confirmReports: 1, confirmForMs: 600_000, repeatIntervalMs: nil, driftChanged: true,
            ignoreAttributes: ["memory_mb", "disk_gb"], groupWaitMs: 45_000))
        // PagerDuty: never grouped, even with [notify] group_wait; its for = "0" wins over [notify].
        #expect(c.notifyRules(webhook: pagerDuty, machine: b) == NotifyRules(
            confirmReports: 1, confirmForMs: 0, repeatIntervalMs: 14_400_000, ignoreAttributes: ["memory_mb"], groupWaitMs: 0))
        #expect(c.notifyRules(webhook: pagerDuty, machine: nil).confirmReports == 2)
        #expect(slack.events == [.drifted, .driftChanged])
        #expect(slack.states == [.drifted])
    }

    @Test("\"0\" and \"0s\" turn repeat_interval and group_wait off, overriding a default")
    func zeroTurnsOff() throws {
        for zero in ["0", "0s"] {
            let config = try load("[notify]\nrepeat_interval = \"2h\"\n" + Self.slack + "group_wait = \"\(zero)\"\nrepeat_interval = \"\(zero)\"\n" + Self.machine).config
            let rules = config.notifyRules(webhook: config.webhooks[0], machine: nil)
            #expect(rules.groupWaitMs == 0)
            #expect(rules.repeatIntervalMs == nil)
            #expect(rules.isImmediate)
        }
    }

    @Test("machine keys in a machines.d drop-in are read like the config file's, and errors there name the drop-in")
    func dropIns() throws {
        let directory = TempDirectory()
        let config = directory.write("config.toml", "[notify]\nconfirm = 2\n" + Self.machine)
        let dropIns = directory.makeDirectory("machines.d")
        directory.write("machines.d/10-a.toml", "[[machine]]\nid = \"mch_b\"\nconfirm = 4\nignore_attributes = [\"memory_mb\"]\n")
        let loaded = try ConfigLoader.load(path: config, environment: ["AKUA_API_TOKEN": sampleToken]).get()
        #expect(loaded.config.machines.map(\.notify) == [NotifyOverrides(), NotifyOverrides(confirmReports: 4, ignoreAttributes: ["memory_mb"])])
        directory.write("machines.d/20-b.toml", "[[machine]]\nid = \"mch_c\"\n\nfor = \"8d\"\ngroup_wait = \"1m\"\n")
        let lines = errorLines(ConfigLoader.load(path: config, environment: ["AKUA_API_TOKEN": sampleToken]))
        #expect(lines == [
            "\(dropIns)/20-b.toml:4: machine[0].for: must be at most 7d, got \"8d\"",
            "\(dropIns)/20-b.toml:5: machine[0].group_wait: group_wait is a receiver's setting: set it in [notify] or a [[webhook]], not per machine",
        ])
    }

    @Test("a pagerduty webhook refuses group_wait, and says why")
    func pagerDutyGroupWait() {
        let lines = errors(Self.pagerDuty + "routing_key_file = \"/etc/akua-driftd/pagerduty.key\"\ngroup_wait = \"30s\"\n" + Self.machine)
        #expect(lines == [
            "c.toml:5: webhook[0].group_wait: a format = \"pagerduty\" webhook is never grouped: the Events API v2 has no batch and "
                + "resolves per dedup_key (one incident per machine); PagerDuty's own alert grouping merges them"
        ])
        // "0" says what happens anyway.
        #expect(errors(Self.pagerDuty + "routing_key_file = \"/etc/akua-driftd/pagerduty.key\"\ngroup_wait = \"0\"\n" + Self.machine) == [])
    }

    @Test("each bad key is FILE:LINE: key: message")
    func errorMessages() {
        let cases: [(String, String)] = [
            ("[notify]\nconfirm = 0\n", "c.toml:2: notify.confirm: must be between 1 and 100, got 0"),
            ("[notify]\nconfirm = 101\n", "c.toml:2: notify.confirm: must be between 1 and 100, got 101"),
            ("[notify]\nconfirm = \"2\"\n", "c.toml:2: notify.confirm: expected an integer, got string"),
            ("[notify]\nfor = \"8d\"\n", "c.toml:2: notify.for: must be at most 7d, got \"8d\""),
            ("[notify]\nfor = \"10 minutes\"\n", "c.toml:2: notify.for: invalid duration \"10 minutes\" (use e.g. \"500ms\", \"30s\", \"15m\", \"1h30m\", \"1d\")"),
            ("[notify]\nrepeat_interval = \"500ms\"\n", "c.toml:2: notify.repeat_interval: must be \"0\" (no reminders) or at least 1s, got \"500ms\""),
            ("[notify]\nrepeat_interval = 3600\n", "c.toml:2: notify.repeat_interval: expected a duration string such as \"30s\", got integer"),
            ("[notify]\ngroup_wait = \"11m\"\n", "c.toml:2: notify.group_wait: must be at most 10m, got \"11m\""),
            ("[notify]\ngroup_wait = \"500ms\"\n", "c.toml:2: notify.group_wait: must be \"0\" (one message per change) or at least 1s, got \"500ms\""),
            ("[notify]\nignore_attributes = \"memory_mb\"\n", "c.toml:2: notify.ignore_attributes: expected an array of attribute names, got string"),
            ("[notify]\nignore_attributes = [\"memory_mb\", \"memory_mb\"]\n", "c.toml:2: notify.ignore_attributes[1]: attribute \"memory_mb\" is listed twice"),
            ("[notify]\nignore_attributes = [\"\"]\n", "c.toml:2: notify.ignore_attributes[0]: must not be empty"),
            ("[notify]\nignore_attributes = [1]\n", "c.toml:2: notify.ignore_attributes[0]: expected an attribute name (a string), got integer"),
            ("[notify]\nconfrim = 2\n", "c.toml:2: notify.confrim: unknown key \"confrim\"; did you mean \"confirm\"?"),
            ("confirm = 2\n", "c.toml:1: confirm: unknown key \"confirm\"; did you mean to put it under [notify]?"),
            ("notify = 2\n", "c.toml:1: notify: expected a table ([notify]), got integer"),
            (Self.standard + "secret_file = \"/etc/akua-driftd/webhook.secret\"\nconfirm = \"2\"\n",
             "c.toml:4: webhook[0].confirm: expected an integer, got string"),
            (Self.standard + "secret_file = \"/etc/akua-driftd/webhook.secret\"\nevents = [\"drift_change\"]\n",
             "c.toml:4: webhook[0].events[0]: unknown event \"drift_change\"; did you mean \"drift_changed\"?"),
            (Self.slack + "repeat_interval = \"900ms\"\n", "c.toml:4: webhook[0].repeat_interval: must be \"0\" (no reminders) or at least 1s, got \"900ms\""),
        ]
        for (text, expected) in cases {
            #expect(errors(text + Self.machine) == [expected], "\(text)")
        }
        let machine = errors("[[machine]]\nid = \"mch_a\"\nrepeat_interval = \"4 hours\"\nconfirm = 0\ngroup_wait = \"30s\"\n")
        #expect(machine == [
            "c.toml:3: machine[0].repeat_interval: invalid duration \"4 hours\" (use e.g. \"500ms\", \"30s\", \"15m\", \"1h30m\", \"1d\")",
            "c.toml:4: machine[0].confirm: must be between 1 and 100, got 0",
            "c.toml:5: machine[0].group_wait: group_wait is a receiver's setting: set it in [notify] or a [[webhook]], not per machine",
        ])
    }

    @Test("a machine's notify keys cost its value one pointer (a config holds up to a million machines)")
    func machineSettingsStaySmall() {
        #expect(MemoryLayout<MachineSettings>.size <= MemoryLayout<String>.size * 2 + 24, "\(MemoryLayout<MachineSettings>.size) bytes")
        var machine = MachineSettings(id: "mch_a")
        let plain = machine
        machine.notify.confirmReports = 2
        #expect(machine != plain)
        #expect(machine.notify == NotifyOverrides(confirmReports: 2))
        machine.notify = NotifyOverrides()
        #expect(machine == plain)
        #expect(Set([machine, plain]).count == 1)
        let copy = MachineSettings(id: "mch_a", notify: NotifyOverrides(confirmReports: 2))
        #expect(copy.hashValue == MachineSettings(id: "mch_a", notify: NotifyOverrides(confirmReports: 2)).hashValue)
    }
}
