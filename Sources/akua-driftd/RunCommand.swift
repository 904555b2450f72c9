import ArgumentParser
import DriftDaemon
import DriftSystemd
import Foundation
import Logging
import ServiceLifecycle

/// `akua-driftd run`: the daemon (systemd `Type=notify` service).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the daemon until SIGTERM (SIGHUP reloads the config).")

    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("log-target"), help: "auto (journal when started by systemd, else stderr), journal or stderr.")
    var logTarget: LogTargetArgument = .auto

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: [log] level, else info).")
    var logLevel: LogLevelArgument?

    func run() async throws {
        SignalMask.unblockLifecycleSignals()
        let environment = ProcessInfo.processInfo.environment
        MemoryTrim.configureAllocator(environment: environment)
        LoggingSetup.bootstrap(target: logTarget.target, level: logLevel?.level ?? .info, environment: environment)
        let logger = Logger(label: "akua-driftd")
        let service = DaemonService(configPath: config.path, environment: environment, logger: logger, logLevelOverride: logLevel?.level)
        do {
            try service.start()
        } catch let error as DaemonError {
            for line in error.description.split(separator: "\n") { logger.critical("\(line)") }
            if LoggingSetup.currentTarget == .journal { FileHandle.standardError.write(Data((error.description + "\n").utf8)) }
            if case .config = error { throw ExitCode(78) }
            throw ExitCode(1)
        }
        var quiet = Logger(label: "akua-driftd.lifecycle")
        quiet.logLevel = .warning
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet))
        try await group.run()
    }
}

struct LogTargetArgument: ExpressibleByArgument {
    var target: LogTarget
    init?(argument: String) {
        guard let target = LogTarget(rawValue: argument) else { return nil }
        self.target = target
    }
    init(_ target: LogTarget) { self.target = target }
    static let auto = LogTargetArgument(.auto)
    static var allValueStrings: [String] { LogTarget.allCases.map(\.rawValue) }
    var defaultValueDescription: String { target.rawValue }
}

struct LogLevelArgument: ExpressibleByArgument {
    var level: Logger.Level
    init?(argument: String) {
        guard let level = Logger.Level(rawValue: argument) else { return nil }
        self.level = level
    }
    init(_ level: Logger.Level) { self.level = level }
    static let info = LogLevelArgument(.info)
    static var allValueStrings: [String] { Logger.Level.allCases.map(\.rawValue) }
    var defaultValueDescription: String { level.rawValue }
}
