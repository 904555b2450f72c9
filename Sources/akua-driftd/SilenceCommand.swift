import ArgumentParser
import DriftConfig
import DriftCore
import DriftDaemon
import DriftStore
import Foundation

/// `akua-driftd silence`: mute the announcements of some or every machine for a while. Written to the
/// state file (found like `status` finds it); the running daemon is woken with SIGUSR1 to apply it at once.
struct SilenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence", abstract: "Add, list or remove silences (changes are journaled with DRIFT_SILENCED=1, not sent).",
        subcommands: [SilenceAddCommand.self, SilenceListCommand.self, SilenceRemoveCommand.self])
}

/// `--config` and `--state` of the silence commands: the state file as `status` finds it.
struct SilenceStateOptions: ParsableArguments {
    @OptionGroup var config: ConfigOption

    @Option(name: .customLong("state"), help: "State file (default: [state] path, else the service's /var/lib/akua-driftd/state.sqlite).",
            completion: .file(extensions: ["sqlite"]))
    var statePath: String?

    /// The config's settings (no secret read), or nil with a note when it is missing or invalid.
    func settings() -> DaemonConfig? {
        guard FileManager.default.fileExists(atPath: config.path) else { return nil }
        switch ConfigLoader.loadSettings(path: config.path) {
        case .success(let value): return value
        case .failure(let error):
            FileHandle.standardError.write(Data("akua-driftd: ignoring \(config.path) (invalid):\n".utf8))
            for diagnostic in error.diagnostics { FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8)) }
            return nil
        }
    }

    func resolvedStatePath(_ settings: DaemonConfig?) -> String {
        StatusLocator(environment: ProcessInfo.processInfo.environment).statePath(explicit: statePath, configured: settings?.state.path)
    }

    /// Opens the existing state file for writing, or exits 1 saying why.
    func openForWriting(_ settings: DaemonConfig?) throws -> AppDatabase {
        let path = resolvedStatePath(settings)
        do {
            return try AppDatabase.openExisting(path: path)
        } catch {
            fail("\(error)")
        }
    }

    /// Tells the running daemon, or says that none runs.
    func wake(_ database: AppDatabase) {
        switch SilenceWakeUp.wake(database) {
        case .signalled(let pid):
            print("akua-driftd (pid \(pid)) applies it now")
        case .notRunning:
            print("akua-driftd is not running on \(database.path): the change is stored; it applies when akua-driftd starts")
        case .failed(let pid, let reason):
            FileHandle.standardError.write(Data(
                "akua-driftd: cannot signal the daemon (pid \(pid)): \(reason); the change is stored and applies before its next decision\n".utf8))
        }
    }
}

/// Exits 1 with `message` on stderr.
private func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("akua-driftd: \(message)\n".utf8))
    SilenceAddCommand.exit(withError: ExitCode(1))
}

/// `silence add (--machine ID… | --all) (--for 2h | --until TIME) --reason TEXT`.
struct SilenceAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Silence machines from now on, for a duration or until a time; prints the silence's id.")

    @Option(name: .customLong("machine"), parsing: .upToNextOption,
            help: "A machine id to silence (repeatable; ids not in the config are accepted with a warning).",
            completion: MachineIDCompletion.kind)
    var machines: [String] = []

    @Flag(name: .customLong("all"), help: "Silence every machine.")
    var all = false

    @Option(name: .customLong("for"), help: "How long, from now: e.g. 30m, 2h, 1d.")
    var duration: String?

    @Option(name: .customLong("until"),
            help: "Until when: RFC 3339 (2026-12-01T08:00:00Z, 2026-12-01T09:00:00+01:00) or YYYY-MM-DD HH:MM in local time.")
    var until: String?

    @Option(name: .customLong("reason"), help: "Why (required; shown by list and status, journaled with each silenced change).")
    var reason: String

    @OptionGroup var state: SilenceStateOptions

    func validate() throws {
        if all, !machines.isEmpty { throw ValidationError("--machine and --all exclude each other") }
        if !all, machines.isEmpty { throw ValidationError("name the machines to silence (--machine ID ...) or --all") }
        if machines.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("--machine: empty machine id")
        }
        switch (duration, until) {
        case (nil, nil): throw ValidationError("say how long: --for DURATION or --until TIME")
        case (.some, .some): throw ValidationError("--for and --until exclude each other")
        default: break
        }
        if let duration {
            guard let ms = try? DurationText.milliseconds(duration) else {
                throw ValidationError("--for: invalid duration \"\(duration)\" (e.g. 30m, 2h, 1d)")
            }
            if ms <= 0 { throw ValidationError("--for: must be longer than zero") }
        }
        if let until {
            do throws(SilenceTime.ParseError) {
                _ = try SilenceTime.parse(until)
            } catch {
                throw ValidationError("--until: \(error)")
            }
        }
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--reason: must not be empty") }
    }

    func run() throws {
        let now = SystemClock().nowMs()
        let endsAt: Int64
        if let duration {
            endsAt = now + ((try? DurationText.milliseconds(duration)) ?? 0)
        } else {
            endsAt = (try? SilenceTime.parse(until ?? "")) ?? 0
            if endsAt <= now {
                throw ValidationError("--until: \(SilenceTime.format(endsAt)) is in the past")
            }
        }
        let settings = state.settings()
        let ids = all ? nil : machines
        if let ids, let settings {
            let known = Set(settings.machines.map(\.id))
            let unknown = ids.filter { !known.contains($0) }
            if !unknown.isEmpty {
                FileHandle.standardError.write(Data(
                    "akua-driftd: warning: not in \(state.config.path): \(unknown.joined(separator: ", ")) (stored anyway: the silence applies once the machine is configured)\n".utf8))
            }
        }
        let database = try state.openForWriting(settings)
        let silence: Silence
        do {
            silence = try database.addSilence(
                machineIDs: ids, startsAtMs: now, endsAtMs: endsAt, reason: reason, createdBy: Self.invokingUser(), createdAtMs: now)
        } catch {
            fail("\(error)")
        }
        print("\(silence.id): \(SilenceListing.machines(silence.machineIDs)) silenced from \(SilenceTime.format(silence.startsAtMs)) "
            + "until \(SilenceTime.format(silence.endsAtMs)) (\(SilenceTime.duration(silence.endsAtMs - now))): \(silence.reason)")
        state.wake(database)
    }

    /// Who runs the command: `$SUDO_USER` when run through sudo, else the effective user's name.
    static func invokingUser(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let sudo = environment["SUDO_USER"], !sudo.isEmpty { return sudo }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return environment["USER"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// `silence list [--all] [--json]`.
struct SilenceListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the active and upcoming silences (--all: ended and removed ones too).")

    @Flag(name: .customLong("all"), help: "Also the ended and removed silences.")
    var all = false

    @Flag(help: "Print a JSON array (one object per silence).")
    var json = false

    @OptionGroup var state: SilenceStateOptions

    func run() throws {
        let settings = state.settings()
        let path = state.resolvedStatePath(settings)
        let now = SystemClock().nowMs()
        let silences: [StoredSilence]
        do {
            silences = try AppDatabase.openReadOnly(path: path).silences(atMs: now, all: all)
        } catch {
            fail("\(error)")
        }
        print(json ? SilenceListing.json(silences, nowMs: now) : SilenceListing.table(silences, nowMs: now, all: all))
    }
}

/// `silence remove ID`.
struct SilenceRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "End a silence now; the current state is then sent where it differs from the last one sent.")

    @Argument(help: "The silence's id (sil_...).", completion: SilenceIDCompletion.kind)
    var id: String

    @OptionGroup var state: SilenceStateOptions

    func run() throws {
        let settings = state.settings()
        let database = try state.openForWriting(settings)
        let removed: StoredSilence
        do {
            removed = try database.removeSilence(id: id, atMs: SystemClock().nowMs())
        } catch {
            fail("\(error)")
        }
        print("\(removed.silence.id) removed (\(SilenceListing.machines(removed.silence.machineIDs)): \(removed.silence.reason))")
        state.wake(database)
    }
}

/// Shell completion of `silence remove ID`: the active and upcoming silences of the state file named by
/// `--state` (else the configured or the service's one); none when it cannot be read.
enum SilenceIDCompletion {
    static let kind = CompletionKind.custom { words, _, prefix in
        var statePath: String?
        for (index, word) in words.enumerated() where word == "--state" && index + 1 < words.count { statePath = words[index + 1] }
        let configPath = MachineIDCompletion.configPath(in: words) ?? ConfigOption.defaultPath
        let settings = try? ConfigLoader.loadSettings(path: configPath, environment: [:]).get()
        let path = StatusLocator(environment: ProcessInfo.processInfo.environment).statePath(explicit: statePath, configured: settings?.state.path)
        guard let silences = try? AppDatabase.openReadOnly(path: path).silences(atMs: SystemClock().nowMs()) else { return [] }
        return silences.map(\.silence.id).filter { $0.hasPrefix(prefix) }
    }
}
