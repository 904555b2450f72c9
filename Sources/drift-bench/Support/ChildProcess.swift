#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn` (stdout and stderr to files, default signal dispositions)
/// and reaped with `wait4`, so that its resource usage over its whole life (every thread, also threads
/// that already exited) is known when it ends.
final class ChildProcess: @unchecked Sendable {
    struct Exit: Sendable {
        var status: Int32
        /// CPU seconds (user + system) of all threads.
        var cpuSeconds: Double
        /// Voluntary plus involuntary context switches of all threads.
        var contextSwitches: Int
        var maxRSSKiB: Int
    }

    let name: String
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    /// Monotonic ns just before `posix_spawn`.
    let spawnedAt: UInt64
    private(set) var exit: Exit?

    init(_ executable: String, _ arguments: [String], environment: [String: String], logDirectory: String, name: String) throws {
        self.name = name
        stdoutPath = logDirectory + "/\(name).stdout"
        stderrPath = logDirectory + "/\(name).stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        spawnedAt = Clocks.monotonicNs()
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw BenchError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    var isRunning: Bool { reap(blocking: false) == nil }

    func signal(_ signal: Int32) {
        if exit == nil { kill(pid, signal) }
    }

    /// Waits up to `timeout` seconds for the exit; nil if it is still running.
    @discardableResult
    func waitForExit(timeout: Double) async -> Exit? {
        let deadline = Clocks.monotonicNs() + UInt64(timeout * 1e9)
        while Clocks.monotonicNs() < deadline {
            if let exit = reap(blocking: false) { return exit }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return reap(blocking: false)
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; always reaps the child.
    @discardableResult
    func stop(grace: Double = 10) async -> Exit? {
        if let exit { return exit }
        signal(SIGTERM)
        if let exit = await waitForExit(timeout: grace) { return exit }
        signal(SIGKILL)
        return reap(blocking: true)
    }

    /// Synchronous last resort (error paths): SIGKILL and reap.
    func kill9() {
        guard exit == nil else { return }
        kill(pid, SIGKILL)
        _ = reap(blocking: true)
    }

    private func reap(blocking: Bool) -> Exit? {
        if let exit { return exit }
        var status: Int32 = 0
        var usage = rusage()
        let result = wait4(pid, &status, blocking ? 0 : WNOHANG, &usage)
        guard result == pid else { return nil }
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let exit = Exit(status: code, cpuSeconds: cpu, contextSwitches: usage.ru_nvcsw + usage.ru_nivcsw, maxRSSKiB: usage.ru_maxrss)
        self.exit = exit
        return exit
    }

    /// The child's stdout so far.
    var stdout: String { Self.read(stdoutPath) }
    /// The last `lines` lines of its stderr (for error messages).
    func stderrTail(_ lines: Int = 15) -> String {
        Self.read(stderrPath).split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    static func read(_ path: String) -> String {
        guard let file = fopen(path, "r") else { return "" }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
