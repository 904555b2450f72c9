import DriftTestSupport
import Foundation

/// Small file systems for disk-fault tests (root only): a tmpfs that can be filled, and an ext4 image on
/// a loop device whose kernel error handling turns it read-only at runtime (`errors=remount-ro`), exactly
/// what a failing disk does under a running daemon. Callers unmount with `unmount` (in a `defer`).
enum Mounts {
    /// Runs a command to completion synchronously (usable in `defer`); returns its status and output.
    @discardableResult
    static func sh(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        TestPreconditions.run(executable, arguments)
    }

    static func tmpfs(at path: String, sizeKB: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = sh("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(sizeKB)k,mode=0700", "akua-reliability", path])
        guard result.status == 0 else { throw HarnessError("mount tmpfs on \(path): \(result.output)") }
    }

    /// An ext4 file system of `sizeMB` in `image`, mounted on `path` through a loop device with
    /// `errors=remount-ro`. Returns the loop device's name (for `/sys/fs/ext4/NAME`).
    static func ext4(image: String, at path: String, sizeMB: Int) throws -> String {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var result = sh("/usr/bin/truncate", ["-s", "\(sizeMB)M", image])
        guard result.status == 0 else { throw HarnessError("truncate: \(result.output)") }
        result = sh("/usr/sbin/mkfs.ext4", ["-q", "-F", image])
        guard result.status == 0 else { throw HarnessError("mkfs.ext4: \(result.output)") }
        result = sh("/usr/bin/mount", ["-o", "loop,errors=remount-ro", image, path])
        guard result.status == 0 else { throw HarnessError("mount -o loop: \(result.output)") }
        let source = sh("/usr/bin/findmnt", ["-n", "-o", "SOURCE", path]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        return URL(fileURLWithPath: source).lastPathComponent
    }

    /// Makes the kernel treat the ext4 file system on `device` as failing: it turns read-only at once,
    /// for every open file too (the way a disk error does).
    static func failExt4(device: String) throws {
        let control = "/sys/fs/ext4/\(device)/trigger_fs_error"
        guard let handle = FileHandle(forWritingAtPath: control) else { throw HarnessError("cannot open \(control)") }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data("akua-driftd reliability test\n".utf8))
    }

    /// Unmounts `path` (lazily if it is still busy); never throws, for `defer`.
    static func unmount(_ path: String) {
        if sh("/usr/bin/umount", [path]).status != 0 {
            sh("/usr/bin/umount", ["-l", path])
        }
    }

    /// Fills the file system holding `directory` with a file until it is full; returns that file.
    static func fill(_ directory: String) -> String {
        let filler = directory + "/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: filler) else { return filler }
        let chunk = Data(count: 16 * 1024)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        // The last partial block.
        let small = Data(count: 512)
        while (try? handle.write(contentsOf: small)) != nil {}
        try? handle.close()
        return filler
    }
}
