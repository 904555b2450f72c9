import Foundation
import Logging
import Synchronization

/// Process-wide logging bootstrap: selects the journal or stderr handler once.
public enum LoggingSetup {
    private static let bootstrapped = Mutex<LogTarget?>(nil)

    /// Calls `LoggingSystem.bootstrap` the first time only (swift-log forbids a second call) and returns
    /// the resolved target (`.journal` or `.stderr`). Later calls change nothing and return the first result.
    @discardableResult
    public static func bootstrap(
        target: LogTarget,
        level: Logger.Level,
        identifier: String = JournalRecord.defaultIdentifier,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> LogTarget {
        bootstrapped.withLock { state in
            if let state { return state }
            let resolved = target.resolve(environment: environment)
            LogLevelControl.shared.level = level
            LoggingSystem.bootstrap(
                { label, provider in
                    // The level lives in `LogLevelControl.shared`, so `[log] level` can change it on reload.
                    SharedLevelLogHandler(
                        makeHandler(
                            target: resolved, label: label, level: .trace, identifier: identifier, metadataProvider: provider),
                        control: .shared)
                },
                metadataProvider: metadataProvider
            )
            state = resolved
            return resolved
        }
    }

    /// Changes the level of every logger made by `bootstrap` (those that did not set their own).
    public static func setLevel(_ level: Logger.Level) {
        LogLevelControl.shared.level = level
    }

    /// The target chosen by the first `bootstrap`, or nil before it.
    public static var currentTarget: LogTarget? {
        bootstrapped.withLock { $0 }
    }

    /// A handler for `target` (`.auto` resolves against the process environment). Useful for a
    /// `Logger(label:factory:)` that must not touch the global logging system (tests, probes).
    public static func makeHandler(
        target: LogTarget,
        label: String,
        level: Logger.Level,
        identifier: String = JournalRecord.defaultIdentifier,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> any LogHandler {
        switch target.resolve(environment: ProcessInfo.processInfo.environment) {
        case .journal:
            return JournalLogHandler(
                label: label, identifier: identifier, logLevel: level, metadataProvider: metadataProvider)
        case .stderr, .auto:
            return StderrLogHandler(
                label: label, identifier: identifier, logLevel: level, metadataProvider: metadataProvider)
        }
    }
}
