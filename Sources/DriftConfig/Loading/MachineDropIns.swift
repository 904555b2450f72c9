import Foundation
import TOMLKit

/// The `machines.d` drop-in directory next to the config file: `*.toml` files, read in name order, each
/// holding only `[[machine]]` blocks. Their machines follow the config file's own; their problems are
/// reported as `DROPIN:LINE: key:` like the config file's, and a machine id defined twice (in any two
/// places) is an error that names both.
enum MachineDropIns {
    /// The directory name, next to the config file.
    static let directoryName = "machines.d"

    /// One machine read from a drop-in, with where it is defined.
    struct Entry {
        var machine: MachineSettings
        var fileIndex: Int
        var path: TOMLPath
    }

    /// One drop-in file: its path as shown in diagnostics and its line index.
    struct File {
        var path: String
        var sink: DiagnosticSink
    }

    /// The drop-in directory for the config file at `configPath` (relative paths stay relative).
    static func directory(forConfig configPath: String) -> String {
        let parent = (configPath as NSString).deletingLastPathComponent
        return parent.isEmpty ? directoryName : parent + "/" + directoryName
    }

    /// The `*.toml` files in `directory`, sorted by name (hidden files skipped); empty when it does not exist.
    static func files(in directory: String) -> (paths: [String], problem: ConfigDiagnostic?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return ([], nil) }
        guard isDirectory.boolValue else {
            return ([], ConfigDiagnostic(file: directory, line: 0, key: "(file)", message: "is not a directory"))
        }
        do {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            return (names.map { directory + "/" + $0 }, nil)
        } catch {
            return ([], ConfigDiagnostic(file: directory, line: 0, key: "(file)", message: "cannot read the directory"))
        }
    }

    /// Adds the drop-ins' machines to a loaded (or failed) config file and their diagnostics to its own.
    /// `mainBytes` is the config file's text, indexed only to name the line of a duplicated id.
    static func apply(
        to result: Result<LoadedConfig, ConfigError>, configPath: String, mainBytes: [UInt8]
    ) -> Result<LoadedConfig, ConfigError> {
        let (paths, problem) = files(in: directory(forConfig: configPath))
        if let problem { return merged(result, extra: [problem], hasErrors: true, machines: []) }
        if paths.isEmpty { return result }

        var files: [File] = []
        var entries: [Entry] = []
        var extra: [ConfigDiagnostic] = []
        var hasErrors = false
        for path in paths {
            let (sink, found) = read(path)
            hasErrors = hasErrors || sink.hasErrors
            entries += found.map { Entry(machine: $0.0, fileIndex: files.count, path: $0.1) }
            files.append(File(path: path, sink: sink))
        }

        // Where each id was first defined: the config file (an index into its machines) or a drop-in entry.
        enum Place { case main(Int), dropIn(Int) }
        var first: [String: Place] = [:]
        if case .success(let loaded) = result {
            for (index, machine) in loaded.config.machines.enumerated() where first[machine.id] == nil {
                first[machine.id] = .main(index)
            }
        }
        var mainIndex: TOMLLineIndex?
        var accepted: [MachineSettings] = []
        for (number, entry) in entries.enumerated() {
            guard let place = first[entry.machine.id] else {
                first[entry.machine.id] = .dropIn(number)
                accepted.append(entry.machine)
                continue
            }
            let where_: String
            switch place {
            case .main(let index):
                // A valid config file's machines are its `[[machine]]` blocks in order.
                if mainIndex == nil { mainIndex = TOMLLineIndex(bytes: mainBytes) }
                let line = mainIndex?.nearestLine(of: [.key("machine"), .index(index), .key("id")]) ?? 0
                where_ = "\(configPath):\(line)"
            case .dropIn(let other):
                let firstEntry = entries[other]
                where_ = "\(files[firstEntry.fileIndex].path):\(files[firstEntry.fileIndex].sink.line(of: firstEntry.path.appending("id")))"
            }
            files[entry.fileIndex].sink.error(
                entry.path.appending("id"),
                "duplicate machine id \(TOMLPathFormat.quoted(entry.machine.id)) (first defined at \(where_))")
            hasErrors = true
        }
        for file in files { extra += file.sink.sorted }
        return merged(result, extra: extra, hasErrors: hasErrors, machines: accepted)
    }

    private static func merged(
        _ result: Result<LoadedConfig, ConfigError>, extra: [ConfigDiagnostic], hasErrors: Bool,
        machines: [MachineSettings]
    ) -> Result<LoadedConfig, ConfigError> {
        switch result {
        case .failure(let error):
            return .failure(ConfigError(diagnostics: error.diagnostics + extra))
        case .success(var loaded):
            if !machines.isEmpty {
                // The config file alone warned that it watches nothing; with the drop-ins it does.
                loaded.warnings.removeAll { $0.file == loaded.path && $0.key == "machine" && $0.line == 0 }
            }
            if hasErrors { return .failure(ConfigError(diagnostics: loaded.warnings + extra)) }
            loaded.config.machines += machines
            loaded.warnings += extra
            return .success(loaded)
        }
    }

    /// Reads and validates one drop-in: its diagnostics (in its sink) and its valid machines with their paths.
    static func read(_ path: String) -> (DiagnosticSink, [(MachineSettings, TOMLPath)]) {
        let bytes: [UInt8]
        switch FileReader.contents(of: path, limit: ConfigSchema.maximumFileBytes) {
        case .contents(let read, _): bytes = read
        case .missing: return (failed(path, "cannot read: No such file or directory"), [])
        case .unreadable(let reason): return (failed(path, "cannot read: \(reason)"), [])
        }
        let parsed = TOMLDocument.parse(bytes, file: path)
        let sink = parsed.sink
        guard let root = parsed.root else { return (sink, []) }
        var validator = ConfigValidator(sink: sink, environment: [:])
        if root.count != (root.contains(key: "machine") ? 1 : 0) {
            for key in root.keys where key != "machine" {
                validator.sink.error(
                    [.key(key)], "unknown key \(TOMLPathFormat.quoted(key)): a \(directoryName) drop-in holds only [[machine]] blocks")
            }
        }
        var machines: [(MachineSettings, TOMLPath)] = []
        if let plain = parsed.machines {
            machines.reserveCapacity(plain.count)
            for (index, fields) in plain.enumerated() {
                if let machine = validator.validateMachine(fields, index: index) { machines.append((machine, [.key("machine"), .index(index)])) }
            }
        }
        for (tablePath, table) in validator.arrayOfTables(root, "machine") {
            if let machine = validator.validateMachine(table, path: tablePath) { machines.append((machine, tablePath)) }
        }
        root.clear()  // TOMLKit never frees a parsed document (see ConfigLoader).
        return (validator.sink, machines)
    }

    private static func failed(_ path: String, _ message: String) -> DiagnosticSink {
        var sink = DiagnosticSink(file: path, index: TOMLLineIndex(bytes: []))
        sink.add(key: "(file)", line: 0, message: message, severity: .error)
        return sink
    }
}
