// akua-driftd: watches Akua machines for configuration drift (the daemon and its CLI).
import ArgumentParser

@main
struct AkuaDriftd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "akua-driftd",
        abstract: "Watch Akua machines for configuration drift; announce every change to the journal and to webhooks.",
        version: AkuaDriftdVersionText.value,
        subcommands: [
            RunCommand.self, CheckConfigCommand.self, CheckCommand.self, StatusCommand.self, ReloadCommand.self,
            StateCommand.self, StatusAccessCommand.self, MachinesCommand.self, WebhookCommand.self, SilenceCommand.self, DemoCommand.self,
            JournalProbeCommand.self,
        ],
        defaultSubcommand: nil
    )
}

/// Options shared by the commands that read the config file.
struct ConfigOption: ParsableArguments {
    /// Where the package installs the config, and where the service reads it.
    static let defaultPath = "/etc/akua-driftd/config.toml"

    @Option(name: .customLong("config"), help: "Config file.", completion: .file(extensions: ["toml"]))
    var path: String = ConfigOption.defaultPath
}
