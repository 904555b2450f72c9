import DriftConfig
import DriftCore
import DriftStore
import DriftSystemd
import Foundation
import Logging

/// Background upkeep of the running daemon: the status snapshot in the runtime directory, the reload
/// outcome, the log level and the pruning of old history (`[state] retention`).
extension DaemonService {
    /// Period of the status snapshot (longer for big fleets: each one reads every machine).
    static func snapshotIntervalMs(machines: Int) -> Int64 { 15_000 + Int64(machines) }
    /// Period of pruning; the first pass runs about a minute after the start.
    static let pruneIntervalMs: Int64 = 3_600_000

    func applyLogLevel(_ config: DaemonConfig) {
        guard logLevelOverride == nil, let level = Logger.Level(rawValue: config.log.level) else { return }
        LoggingSetup.setLevel(level)
    }

    /// Records reload number n+1: in the state file (for `status`), refreshes the snapshot, then tells
    /// `akua-driftd reload` (which waits for it) in the runtime directory: once it returns, the snapshot
    /// already shows the reload.
    func recordReload(errors: [String]) {
        let generation = reloadGeneration.add(1, ordering: .relaxed).newValue
        let now = clock.nowMs()
        if let database = current.withLock({ $0?.database }) {
            do {
                try database.recordReload(ReloadFact(generation: generation, at: now, accepted: errors.isEmpty, errorCount: errors.count))
            } catch {
                logger.warning("cannot record the reload in the state file: \(error)")
            }
        }
        writeSnapshot()
        writeReloadOutcome(ReloadOutcome(generation: generation, accepted: errors.isEmpty, at: now, errors: errors))
    }

    func writeReloadOutcome(_ outcome: ReloadOutcome) {
        guard let runtimeFiles else { return }
        do {
            try runtimeFiles.write(RuntimeFiles.reloadFileName, outcome.encoded())
        } catch {
            logger.warning("cannot write the reload outcome: \(error)")
        }
    }

    /// Writes `status.json` for readers who cannot open the state file (group `adm`).
    func writeSnapshot() {
        guard let runtimeFiles, let running = current.withLock({ $0 }) else { return }
        do {
            try running.database.setDisabledWebhooks(running.dispatcher.disabledEndpointIDs)
            let snapshot = try StatusSnapshot.read(
                running.database, webhookNames: StatusSnapshot.webhookNames(running.loaded.config),
                failingAfter: running.loaded.config.schedule.failingAfter, nowMs: clock.nowMs(), config: running.loaded.config)
            try runtimeFiles.write(StatusSnapshot.fileName, snapshot.encoded())
        } catch {
            logger.warning("cannot write the status snapshot: \(error)")
        }
    }

    /// Prunes history older than `[state] retention` (pending deliveries never).
    func pruneHistory() {
        guard let running = current.withLock({ $0 }) else { return }
        let retention = running.loaded.config.state.retentionMilliseconds
        do {
            let removed = try running.database.prune(before: clock.nowMs() - retention)
            if removed.transitions + removed.deliveries > 0 {
                logger.info("pruned \(removed.transitions) transitions and \(removed.deliveries) finished deliveries older than \(DurationText.format(milliseconds: retention))")
            }
        } catch {
            logger.warning("cannot prune the state file: \(error)")
        }
    }

    /// Ticks every 5 s on a serial queue of its own (SQLite calls block: never on the cooperative pool).
    func startMaintenance() {
        let queue = DispatchQueue(label: "akua-driftd.maintenance", qos: .utility)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let schedule = HousekeepingTimes(startMs: clock.nowMs())
        timer.schedule(deadline: .now(), repeating: .seconds(5), leeway: .seconds(1))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            let now = self.clock.nowMs()
            let machines = self.current.withLock { $0?.loaded.config.machines.count } ?? 0
            if now - schedule.lastSnapshot >= DaemonService.snapshotIntervalMs(machines: machines) || now < schedule.lastSnapshot {
                schedule.lastSnapshot = now
                self.writeSnapshot()
            }
            if now - schedule.lastPrune >= DaemonService.pruneIntervalMs || now < schedule.lastPrune {
                schedule.lastPrune = now
                self.pruneHistory()
            }
        }
        timer.activate()
        let handle = MaintenanceTimer(timer)
        maintenance.withLock { $0 = handle }
    }

    func stopMaintenance() {
        maintenance.withLock { $0?.timer.cancel(); $0 = nil }
    }
}

/// The maintenance timer (a DispatchSource: thread-safe to cancel from anywhere).
final class MaintenanceTimer: @unchecked Sendable {
    let timer: any DispatchSourceTimer
    init(_ timer: any DispatchSourceTimer) { self.timer = timer }
}

/// When the housekeeping tasks (snapshot, pruning) last ran (unix ms); touched only on their queue. (Not
/// to be confused with `[[maintenance]]` windows, `DriftConfig.MaintenanceSchedule`.)
final class HousekeepingTimes: @unchecked Sendable {
    var lastSnapshot: Int64 = .min / 2
    /// The first pruning runs about a minute after the start.
    var lastPrune: Int64

    init(startMs: Int64) {
        lastPrune = startMs - DaemonService.pruneIntervalMs + 60_000
    }
}
