/// Why the state file cannot be used. Each case names the file and what the operator can do.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case foreign(path: String)
    case corrupt(path: String, detail: String)
    case newerSchema(path: String, migration: String)
    case locked(path: String)
    case cannotOpen(path: String, detail: String)

    public var description: String {
        switch self {
        case .foreign(let path):
            "\(path): not an akua-driftd state file (another application's SQLite database); refusing to touch it. Point [state] path elsewhere."
        case .corrupt(let path, let detail):
            "\(path): state file is corrupted or not a SQLite database (\(detail)); refusing to overwrite it. Move it aside to start afresh."
        case .newerSchema(let path, let migration):
            "\(path): written by a newer akua-driftd (unknown migration \(migration)); refusing to downgrade it. Restore the state.sqlite.pre-vN copy the newer version kept, or move the file aside (README, section The state file)."
        case .locked(let path):
            "\(path): another akua-driftd is already running on this state file"
        case .cannotOpen(let path, let detail):
            "\(path): cannot open state file: \(detail)"
        }
    }
}
