import DriftConfig
import DriftCore
import DriftStore
import DriftWebhooks
import Foundation

/// Everything `akua-driftd status` shows, read from the state file or from the snapshot the daemon keeps
/// in its runtime directory for readers who may not open the state file (members of `adm`).
public struct StatusSnapshot: Codable, Equatable, Sendable {
    /// One webhook endpoint's outbox.
    public struct Webhook: Codable, Equatable, Sendable {
        public var name: String
        public var pending: Int
        /// Unix seconds of the oldest pending event.
        public var oldest_pending_at: Int64?
        public var failed: Int
        public var delivered: Int
        /// A 410 Gone disabled it until the next reload.
        public var disabled: Bool
    }

    /// The latest reload.
    public struct Reload: Codable, Equatable, Sendable {
        /// Unix seconds.
        public var at: Int64
        public var accepted: Bool
        public var errors: Int
        public var generation: Int64
    }

    public var machines: [StatusReport.Row]
    public var webhooks: [Webhook]
    public var last_reload: Reload?
    public var clock_skew_ms: Int64?
    /// Unix seconds: when this was read.
    public var taken_at: Int64
    /// The active and upcoming silences (`akua-driftd silence`); nil in a snapshot of an older daemon.
    public var silences: [SilenceListing.Row]?
    /// The config's `[[maintenance]]` windows, with the end of the one in force.
    public var maintenance: [StatusPolicy.MaintenanceRow]?

    public init(machines: [StatusReport.Row], webhooks: [Webhook], last_reload: Reload?, clock_skew_ms: Int64?, taken_at: Int64) {
        self.machines = machines
        self.webhooks = webhooks
        self.last_reload = last_reload
        self.clock_skew_ms = clock_skew_ms
        self.taken_at = taken_at
    }

    /// The snapshot's file name in the runtime directory.
    public static let fileName = "status.json"

    /// Reads `database`. `webhookNames` maps outbox ids (`WebhookEndpoint.id(forURL:)`) to labels.
    /// `config` adds the policy's view: ignored attributes, silences and maintenance windows in force.
    public static func read(
        _ database: AppDatabase, webhookNames: [String: String], failingAfter: Int, nowMs: Int64, config: DaemonConfig? = nil
    ) throws -> StatusSnapshot {
        var rows = StatusReport.rows(try database.machines(), nowMs: nowMs, failingAfter: failingAfter)
        let policy = try StatusPolicy.read(database, config: config, nowMs: nowMs)
        policy.apply(to: &rows, nowMs: nowMs)
        let disabled = try database.disabledWebhooks()
        var byID = Dictionary(uniqueKeysWithValues: try database.webhookBacklog().map { ($0.webhook, $0) })
        // Configured endpoints by name (an empty outbox included), then the outboxes of removed ones.
        var ids = webhookNames.keys.sorted { (webhookNames[$0] ?? $0) < (webhookNames[$1] ?? $1) }
        ids += byID.keys.filter { webhookNames[$0] == nil }.sorted()
        let webhooks = ids.map { id in
            let backlog = byID.removeValue(forKey: id)
            return Webhook(
                name: webhookNames[id] ?? "outbox \(id)", pending: backlog?.pending ?? 0,
                oldest_pending_at: backlog?.oldestPendingAt.map { $0 / 1000 }, failed: backlog?.failed ?? 0,
                delivered: backlog?.delivered ?? 0, disabled: disabled.contains(id))
        }
        let reload = try database.lastReload().map {
            Reload(at: $0.at / 1000, accepted: $0.accepted, errors: $0.errorCount, generation: $0.generation)
        }
        var snapshot = StatusSnapshot(
            machines: rows, webhooks: webhooks, last_reload: reload, clock_skew_ms: try database.clockSkewMs(),
            taken_at: nowMs / 1000)
        snapshot.silences = policy.silences.map { SilenceListing.row($0, nowMs: nowMs) }
        snapshot.maintenance = policy.maintenanceRows(nowMs: nowMs)
        return snapshot
    }

    /// Outbox id to label for the configured webhooks.
    public static func webhookNames(_ config: DaemonConfig) -> [String: String] {
        Dictionary(config.webhooks.map { (WebhookEndpoint.id(forURL: $0.url), $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// Exit status like a monitoring plugin: 0 all in_sync, 1 any drifted (drift only in ignored attributes
    /// counts as in_sync, as for announcements), 2 any unknown or failing (3, state unreadable, is the caller's).
    public var exitCode: Int32 {
        if machines.contains(where: { $0.state == DriftState.unknown.rawValue || $0.failing }) { return 2 }
        if machines.contains(where: { $0.state == DriftState.drifted.rawValue && !$0.onlyIgnoredDiffer }) { return 1 }
        return 0
    }

    /// The table, then one line per webhook and the last reload.
    public func text(nowMs: Int64) -> String {
        var lines = [StatusReport.table(machines, nowMs: nowMs, clockSkewMs: clock_skew_ms)]
        lines += StatusPolicy.text(machines: machines, silences: silences ?? [], maintenance: maintenance ?? [], nowMs: nowMs)
        for hook in webhooks {
            var line = "webhook \(hook.name): \(hook.pending) pending"
            if let oldest = hook.oldest_pending_at {
                line += " (oldest \(StatusReport.relative(nowMs - oldest * 1000, past: true)))"
            }
            line += ", \(hook.failed) failed, \(hook.delivered) delivered"
            if hook.disabled { line += ", DISABLED (410 Gone) until the next reload" }
            lines.append(line)
        }
        if let reload = last_reload {
            let outcome = reload.accepted
                ? "accepted"
                : "REJECTED (\(reload.errors) error\(reload.errors == 1 ? "" : "s"); the previous config is running; see journalctl -u akua-driftd)"
            lines.append("last reload: \(StatusReport.relative(nowMs - reload.at * 1000, past: true)), \(outcome)")
        } else {
            lines.append("last reload: none since the state file was created")
        }
        return lines.joined(separator: "\n")
    }

    /// Encodes for the runtime snapshot file.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> StatusSnapshot {
        try JSONDecoder().decode(StatusSnapshot.self, from: data)
    }
}
