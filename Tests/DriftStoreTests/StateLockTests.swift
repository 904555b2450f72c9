import DriftStore
import Foundation
import Testing

@Suite("State lock")
struct StateLockTests {
    @Test("a second lock on the same state file fails with .locked until the first is released")
    func exclusive() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("state.sqlite").path
            var first: StateLock? = try StateLock(statePath: path)
            #expect(first?.path == path + ".lock")
            #expect(FileManager.default.fileExists(atPath: path + ".lock"))
            guard case .locked(let reported) = storeError({ _ = try StateLock(statePath: path) }) else {
                Issue.record("a second lock was granted")
                return
            }
            #expect(reported == path)
            #expect(StoreError.locked(path: path).description.contains("another akua-driftd is already running"))
            // Another state file is independent.
            let other = try StateLock(statePath: dir.appendingPathComponent("other.sqlite").path)
            _ = other
            first = nil
            let second = try StateLock(statePath: path)
            #expect(second.path == path + ".lock")
            _ = first
        }
    }

    @Test("a lock in a missing directory reports cannotOpen")
    func missingDirectory() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("no/such/state.sqlite").path
            guard case .cannotOpen(let reported, _) = storeError({ _ = try StateLock(statePath: path) }) else {
                Issue.record("expected cannotOpen")
                return
            }
            #expect(reported == path + ".lock")
        }
    }
}
