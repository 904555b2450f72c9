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
            LoggingSystem.bootstrap(
                { label, provider in
                    makeHandler(
                        target: resolved, label: label, level: level, identifier: identifier, metadataProvider: provider)
                },
                metadataProvider: metadataProvider
            )
            state = resolved
            return resolved
        }
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
