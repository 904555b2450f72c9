import Foundation
import Testing

/// What a test needs from the machine it runs on, for Swift Testing condition traits:
/// `.enabled(if: TestPreconditions.journalSandbox, TestPreconditions.journalSandboxReason)`.
/// A test whose precondition does not hold is reported as skipped with its reason (and `make test`
/// lists it; with `CI=true` any skip fails the run). A test never checks these itself and returns early.
/// Setup that fails although its precondition held is a failure, never a skip.
public enum TestPreconditions {
    public static var isRoot: Bool { geteuid() == 0 }

    /// The first executable among `candidates` (absolute paths), if any.
    public static func executable(_ candidates: [String]) -> String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// An executable named `name` in /usr/bin, /bin, /usr/sbin or /sbin.
    public static func tool(_ name: String) -> String? {
        executable(["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"].map { $0 + name })
    }

    /// Runs a command to completion; its status (or -1 when it could not start) and its output.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    // MARK: The private journald (Tests/Support/journal-sandbox.sh)

    /// Root, `unshare`, `journalctl` and systemd-journald: what journal-sandbox.sh needs (it re-checks,
    /// and a test treats its "skip" exit status 77 as a failure once this held).
    public static var journalSandbox: Bool {
        isRoot && tool("unshare") != nil && tool("journalctl") != nil
            && executable(["/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"]) != nil
    }

    public static let journalSandboxReason: Comment =
        "needs root, unshare, journalctl and systemd-journald (a private journald in a mount namespace); run as root with systemd installed"

    // MARK: Mounts

    /// Root and `mount`/`umount`: a tmpfs can be mounted.
    public static var tmpfs: Bool { isRoot && tool("mount") != nil && tool("umount") != nil }

    public static let tmpfsReason: Comment = "needs root and mount/umount (it mounts a small tmpfs)"

    /// Root, mkfs.ext4, mount and a loop device that can be had: `losetup -f` names a free one (creating it
    /// through /dev/loop-control when needed). Setup failing after this held fails the test.
    public static var loopDevice: Bool {
        guard isRoot, tool("mkfs.ext4") != nil, tool("mount") != nil, tool("findmnt") != nil,
              let losetup = tool("losetup") else { return false }
        let result = run(losetup, ["-f"])
        return result.status == 0 && result.output.hasPrefix("/dev/loop")
    }

    public static let loopDeviceReason: Comment =
        "needs root, mkfs.ext4 (e2fsprogs), mount and a loop device (`losetup -f` found none: no /dev/loop-control?)"

    // MARK: Tools

    /// The sqlite3 command line tool (Debian package sqlite3).
    public static var sqlite3: Bool { tool("sqlite3") != nil }
    public static let sqlite3Reason: Comment = "needs the sqlite3 command line tool (apt-get install sqlite3; scripts/install-deps.sh does)"

    /// openssl and python3 (the self-signed HTTPS server).
    public static var opensslAndPython: Bool { tool("openssl") != nil && tool("python3") != nil }
    public static let opensslAndPythonReason: Comment = "needs openssl and python3 (scripts/install-deps.sh installs them)"
}
