import ArgumentParser
import DriftConfig
import Foundation

/// Shell completion of `check MACHINE_ID`: the machine ids of the config named on the command line
/// (`--config`, else the default path), read without any secret; no candidates when it cannot be read.
enum MachineIDCompletion {
    static let kind = CompletionKind.custom { words, _, prefix in
        let path = configPath(in: words) ?? ConfigOption.defaultPath
        guard case .success(let config) = ConfigLoader.loadSettings(path: path, environment: [:]) else { return [] }
        return config.machines.map(\.id).filter { $0.hasPrefix(prefix) }
    }

    /// The value of `--config PATH` or `--config=PATH` among the shell words (quotes removed, `~/` expanded).
    static func configPath(in words: [String], home: String? = nil) -> String? {
        var value: String?
        for (index, word) in words.enumerated() {
            if word == "--config", index + 1 < words.count {
                value = words[index + 1]
            } else if word.hasPrefix("--config=") {
                value = String(word.dropFirst("--config=".count))
            }
        }
        guard var path = value?.trimmingCharacters(in: ["'", "\""]), !path.isEmpty else { return nil }
        if path.hasPrefix("~/"), let home = home ?? ProcessInfo.processInfo.environment["HOME"] {
            path = home + path.dropFirst()
        }
        return path
    }
}
