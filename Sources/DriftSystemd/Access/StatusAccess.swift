#if canImport(CSystemd)
import CSystemd
#endif
import Foundation

/// Lets a group (Debian's `adm`, the log readers) read the daemon's runtime files without making the
/// daemon a member of it: POSIX ACLs on the runtime directory (named group `r-x`, and the same as the
/// default ACL that every file the daemon creates there inherits). Run by the unit's privileged
/// `ExecStartPost=+`, once the directory exists; systemd keeps the ACLs as long as the owner does not change.
public enum StatusAccess {
    enum Tag: UInt16 { case userObj = 0x01, groupObj = 0x04, group = 0x08, mask = 0x10, other = 0x20 }

    /// The `system.posix_acl_*` xattr value: version 2, then (tag, perm, id) little-endian, sorted by tag.
    static func aclXattr(groupID: UInt32, owner: UInt16, group: UInt16) -> [UInt8] {
        let undefined = UInt32.max
        let entries: [(Tag, UInt16, UInt32)] = [
            (.userObj, owner, undefined), (.groupObj, group, undefined), (.group, group, groupID),
            (.mask, group, undefined), (.other, 0, undefined),
        ]
        var bytes: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        append(UInt32(2))
        for (tag, perm, id) in entries {
            append(tag.rawValue)
            append(perm)
            append(id)
        }
        return bytes
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Grants `groupName` read access to `directory` and to the files in it, now and for files created later.
    public static func grant(directory: String, groupName: String) throws {
        guard let entry = getgrnam(groupName) else { throw Failure(description: "no group \(groupName)") }
        let gid = UInt32(entry.pointee.gr_gid)
        let directoryACL = aclXattr(groupID: gid, owner: 7, group: 5)
        try set(directoryACL, "system.posix_acl_access", on: directory)
        try set(directoryACL, "system.posix_acl_default", on: directory)
        let fileACL = aclXattr(groupID: gid, owner: 6, group: 4)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            try set(fileACL, "system.posix_acl_access", on: path)
        }
    }

    private static func set(_ value: [UInt8], _ name: String, on path: String) throws {
        let result = value.withUnsafeBytes { setxattr(path, name, $0.baseAddress, $0.count, 0) }
        if result != 0 {
            throw Failure(description: "\(path): cannot set \(name): \(String(cString: strerror(errno)))")
        }
    }
}
