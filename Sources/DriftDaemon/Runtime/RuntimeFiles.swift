import Foundation

/// Files the daemon keeps in its runtime directory (`RuntimeDirectory=akua-driftd`, `/run/akua-driftd`):
/// the status snapshot for `status` readers in group `adm` and the outcome of the latest reload for
/// `akua-driftd reload`. Each is replaced atomically (write, fsync, rename), never seen half-written.
public struct RuntimeFiles: Sendable {
    /// Where the installed service keeps them.
    public static let serviceDirectory = "/run/akua-driftd"
    public static let reloadFileName = "reload.json"

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The first entry of `$RUNTIME_DIRECTORY` (set by systemd for `RuntimeDirectory=`), if any.
    public static func fromEnvironment(_ environment: [String: String]) -> RuntimeFiles? {
        guard let value = environment["RUNTIME_DIRECTORY"],
            let first = value.split(separator: ":", omittingEmptySubsequences: true).first
        else { return nil }
        return RuntimeFiles(directory: String(first))
    }

    public func path(_ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Replaces `name` with `data`, readable by the directory's group (mode 0640: the unit's
    /// setgid directory gives it group `adm`).
    public func write(_ name: String, _ data: Data) throws {
        let target = path(name)
        let temporary = target + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw RuntimeFileError(path: temporary, errno: errno) }
        var failure: Int32 = 0
        if fchmod(fd, 0o640) != 0 { failure = errno }
        data.withUnsafeBytes { buffer in
            var offset = 0
            while failure == 0, offset < buffer.count {
                let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno != EINTR { failure = errno }
                } else {
                    offset += written
                }
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0, rename(temporary, target) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw RuntimeFileError(path: target, errno: failure)
        }
    }

    public func read(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path(name)))
    }
}

public struct RuntimeFileError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}

/// What `akua-driftd reload` waits for: the outcome of reload number `generation` (0: the start).
public struct ReloadOutcome: Codable, Equatable, Sendable {
    public var generation: Int64
    public var accepted: Bool
    /// Unix ms.
    public var at: Int64
    /// The `FILE:LINE: key: message` errors of a rejected config.
    public var errors: [String]

    public init(generation: Int64, accepted: Bool, at: Int64, errors: [String]) {
        self.generation = generation
        self.accepted = accepted
        self.at = at
        self.errors = errors
    }

    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }

    public static func read(from files: RuntimeFiles) -> ReloadOutcome? {
        guard let data = try? files.read(RuntimeFiles.reloadFileName) else { return nil }
        return try? JSONDecoder().decode(ReloadOutcome.self, from: data)
    }
}
