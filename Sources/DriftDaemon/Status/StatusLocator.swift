import DriftConfig
import DriftCore
import DriftStore
import Foundation

/// Finds what `akua-driftd status` reads, without the API token: the state file (`--state`, else the
/// config's `[state] path`, else `$STATE_DIRECTORY`, else the installed service's
/// `/var/lib/akua-driftd/state.sqlite`, else `./state.sqlite`), or, when that file cannot be opened
/// (a non-root reader: `/var/lib/private` is root's only), the daemon's snapshot in its runtime directory.
public struct StatusLocator: Sendable {
    /// The unit's `StateDirectory=` (a symlink into `/var/lib/private` with `DynamicUser=yes`).
    public var serviceStateDirectory = "/var/lib/akua-driftd"
    /// The unit's `RuntimeDirectory=`.
    public var runtimeDirectory = RuntimeFiles.serviceDirectory
    public var environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
        if let files = RuntimeFiles.fromEnvironment(environment) { runtimeDirectory = files.directory }
    }

    /// Where status was read from, for the reader.
    public enum Source: Equatable, Sendable {
        case stateFile(String)
        case snapshot(String)
    }

    /// Why nothing could be read: one sentence naming each place tried and what to do.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The state file to open. `configured` is the config's `[state] path` with its defaults applied
    /// (nil when no config could be read).
    public func statePath(explicit: String?, configured: String?) -> String {
        if let explicit { return explicit }
        if let configured, configured != StateSettings.fallbackPath { return configured }
        if let directory = RuntimeFiles.fromEnvironmentKey("STATE_DIRECTORY", environment) {
            return RuntimeFiles(directory: directory).path("state.sqlite")
        }
        // The unit's directory exists (as a symlink even where a non-root reader cannot follow it).
        var info = stat()
        if lstat(serviceStateDirectory, &info) == 0 { return serviceStateDirectory + "/state.sqlite" }
        return StateSettings.fallbackPath
    }

    /// Reads the status: the state file if it opens, else (unless `--state` was given) the snapshot.
    public func read(
        explicit: String?, config: DaemonConfig?, nowMs: Int64
    ) -> Result<(StatusSnapshot, Source), Failure> {
        let path = statePath(explicit: explicit, configured: config?.state.path)
        var stateError = ""
        var info = stat()
        if stat(path, &info) != 0, errno == EACCES {
            // Not "no such file": a reader outside root cannot see into /var/lib/private.
            stateError = "\(path): permission denied"
            if explicit != nil { return .failure(Failure(description: stateError)) }
        }
        do {
            let database = try AppDatabase.openReadOnly(path: path)
            let snapshot = try StatusSnapshot.read(
                database, webhookNames: config.map(StatusSnapshot.webhookNames) ?? [:],
                failingAfter: config?.schedule.failingAfter ?? ScheduleSettings.defaultFailingAfter, nowMs: nowMs, config: config)
            return .success((snapshot, .stateFile(path)))
        } catch {
            if stateError.isEmpty { stateError = "\(error)" }
        }
        if explicit != nil { return .failure(Failure(description: stateError)) }
        let files = RuntimeFiles(directory: runtimeDirectory)
        let snapshotPath = files.path(StatusSnapshot.fileName)
        do {
            let snapshot = try StatusSnapshot.decode(try files.read(StatusSnapshot.fileName))
            return .success((snapshot, .snapshot(snapshotPath)))
        } catch let error as CocoaError where error.code == .fileReadNoPermission {
            return .failure(Failure(description: "\(stateError); \(snapshotPath): permission denied. "
                + "Run status as root, or as a member of group adm (the daemon's snapshot is readable by adm)."))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return .failure(Failure(description: "\(stateError); \(snapshotPath): no such file. "
                + "Run status as root (the snapshot for group adm exists only while the service runs)."))
        } catch {
            return .failure(Failure(description: "\(stateError); \(snapshotPath): \(error)"))
        }
    }
}

extension RuntimeFiles {
    /// The first entry of a colon-separated systemd directory variable.
    static func fromEnvironmentKey(_ key: String, _ environment: [String: String]) -> String? {
        guard let value = environment[key],
            let first = value.split(separator: ":", omittingEmptySubsequences: true).first
        else { return nil }
        return String(first)
    }
}
