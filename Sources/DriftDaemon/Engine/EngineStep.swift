import AkuaAPI
import DriftCore
import DriftStore
import DriftWebhooks
import Logging

/// How one check ended, as the I/O step hands it to the reducer.
public enum CheckResult: Sendable {
    /// The API answered with a report (the `Date` header's instant, when sent).
    case report(DriftReport, serverDateMs: Int64?)
    /// The create failed.
    case failure(AkuaAPIError)
    /// 404 on create, confirmed by `GET /machines/{id}` answering 404: the machine is gone.
    case machineGone
    /// 404/405/501 on create while `GET /machines/{id}` knows the machine: the operation is unavailable.
    case operationUnavailable(AkuaAPIError)
}

/// What the reducer consumes: finished checks and expiry instants.
public enum EngineCompletion: Sendable {
    case check(machineID: String, occurrence: Occurrence, result: CheckResult, receivedAtMs: Int64)
    case expiry(machineID: String, expiresAtMs: Int64)

    var isExpiry: Bool { if case .expiry = self { true } else { false } }
}

/// A log record the I/O step writes (the reducer itself writes nothing).
public struct EngineLogRecord: Sendable {
    public var level: Logger.Level
    public var message: String
    public var metadata: Logger.Metadata
}

/// The latest valid report's lifetime, in memory, so an expiry is judged without reading the state file.
public struct ReportLife: Sendable, Hashable {
    public var id: String
    public var localExpiresAtMs: Int64
    public init(id: String, localExpiresAtMs: Int64) {
        self.id = id
        self.localExpiresAtMs = localExpiresAtMs
    }
}

/// What the engine holds per machine; mirrors the state file's row (so a restart reads back the same).
public struct EngineMachine: Sendable, Hashable {
    public var name: String?
    public var state: DriftState
    public var observed: Bool
    public var failures: Int
    public var report: ReportLife?
    /// Announced as "checks failing" (after `failing_after` failures) and not yet recovered.
    public var failingAnnounced = false
    /// The current streak of invalid reports / operator errors was logged already.
    public var invalidLogged = false
    public var operatorLogged = false
    /// Expired replays followed since the last valid report, and the newest one's `created_at` (ms).
    public var replayChain = 0
    public var lastReplayCreatedMs: Int64?
}

/// Fleet-wide conditions: pauses, the operation being unavailable, the measured clock skew.
public struct FleetConditions: Sendable, Hashable {
    /// Consecutive fleet-wide failures (401/403 or 429) of the current pause streak; 0 when none.
    public var pauseStreak = 0
    /// Until when a 404 on create counts as "operation unavailable" without asking `GET /machines/{id}`.
    public var operationUnavailableUntilMs: Int64?
    public var operationUnavailableLogged = false
    /// API clock minus local clock (ms), from the latest `Date` header.
    public var skewMs: Int64?
    public var skewWarned = false
}

/// The result of reducing a batch: what to write, and what memory and the journal get once it is written.
public struct EngineStep: Sendable {
    public var records: [CheckRecord] = []
    /// The machines' new in-memory state, applied only after `records` are durable.
    public var machines: [(id: String, machine: EngineMachine)] = []
    public var logs: [EngineLogRecord] = []
    /// Checks to try again (same occurrence) if the write fails.
    public var retryOnStoreFailure: [(machineID: String, occurrence: Occurrence)] = []
    /// Expiries to judge again if the write fails.
    public var expiries: [EngineCompletion] = []
    /// The measured skew changed notably: persist it for `status`.
    public var skewChanged = false
    /// Policy tracks changed by this step (nil track: forgotten), with their next deadline.
    public var notifyTracks: [NotifyKey: (track: NotifyTrack?, deadline: Int64?)] = [:]
    /// Messages held for group windows, with the window's end.
    public var groupMembers: [(member: NotifyGroupMember, endMs: Int64)] = []
    /// Group windows sent by this step.
    public var groupFlushes: [NotifyGroupFlush] = []
    /// Policy deadlines this step handled (put back if it cannot be written).
    var notifyDue: [NotifyMemory.Due] = []
    /// Reminder event ids already journaled by this step (one entry however many webhooks get it).
    var reminderLogged = Set<String>()
}
