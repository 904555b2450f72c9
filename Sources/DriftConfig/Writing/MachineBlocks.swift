#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `[[machine]]` blocks as the config file and its `machines.d` drop-ins read them (`machines import`).
public enum MachineBlocks {
    /// The TOML text: `header` lines as `#` comments, then one block per machine. A machine whose id the
    /// config would reject is left out (returned in `skipped`); a name it would reject is left off.
    public static func render(_ machines: [MachineSettings], header: [String]) -> (text: String, skipped: [String]) {
        var text = header.map { "# " + String(String.UnicodeScalarView($0.unicodeScalars.filter { !ConfigValidator.isControl($0) })) + "\n" }.joined()
        var skipped: [String] = []
        for machine in machines {
            guard isValidID(machine.id) else {
                skipped.append(machine.id)
                continue
            }
            text += "\n[[machine]]\nid = \(basicString(machine.id))\n"
            if let name = machine.name, ConfigSchema.nameLength.contains(name.unicodeScalars.count),
               !name.unicodeScalars.contains(where: ConfigValidator.isControl) {
                text += "name = \(basicString(name))\n"
            }
        }
        return (text, skipped)
    }

    /// The rules `[[machine]] id` has in the config: 1-54 characters, no whitespace or control characters.
    static func isValidID(_ id: String) -> Bool {
        ConfigSchema.machineIDLength.contains(id.unicodeScalars.count)
            && !id.unicodeScalars.contains { ConfigValidator.isControl($0) || $0.properties.isWhitespace }
    }

    /// A TOML basic string (`"..."`) with `"`, `\` and control characters escaped.
    static func basicString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Why a drop-in could not be written.
    public struct WriteError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `text` to `path` atomically: a temporary file in the same directory (mode 0644), flushed to
    /// disk, then renamed over `path`; a reader (a reload) sees the old file or the new one, never a part.
    public static func writeAtomically(_ text: String, to path: String) throws(WriteError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw WriteError(description: "\(temporary): \(String(cString: strerror(errno)))") }
        var failure: String?
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count, failure == nil {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno != EINTR { failure = String(cString: strerror(errno)) }
            } else {
                written += count
            }
        }
        if failure == nil, fchmod(fd, 0o644) != 0 || fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw WriteError(description: "\(path): \(failure)")
        }
        // Make the rename itself durable.
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}
