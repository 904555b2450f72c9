#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What reading a file gave the loader: its bytes and permission bits, that it does not exist, or why
/// it could not be read. Injected into `ConfigLoader.parse` so tests need no real secret files.
public enum FileReadResult: Sendable, Equatable {
    /// The file's bytes and its permission bits (`st_mode & 0o7777`).
    case contents([UInt8], mode: UInt32)
    /// There is no such file (ENOENT/ENOTDIR).
    case missing
    /// It exists but cannot be read; the reason, e.g. "Permission denied" or "not a regular file".
    case unreadable(String)
}

/// Reading regular files without ever blocking (FIFOs, devices are refused) or reading without bound.
enum FileReader {
    /// Reads the regular file at `path`, refusing anything larger than `limit` bytes.
    static func contents(of path: String, limit: Int) -> FileReadResult {
        if path.isEmpty { return .missing }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return .missing }
            return .unreadable(errorText(code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .unreadable(errorText(errno)) }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { return .unreadable(errorText(EISDIR)) }
        guard type == S_IFREG else { return .unreadable("not a regular file") }
        if Int(info.st_size) > limit {
            return .unreadable("file is too large (\(info.st_size) bytes; the limit is \(limit))")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .unreadable(errorText(errno))
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > limit {
                return .unreadable("file is too large (more than \(limit) bytes)")
            }
        }
        return .contents(bytes, mode: UInt32(info.st_mode) & 0o7777)
    }

    /// `strerror` text for `code`.
    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
