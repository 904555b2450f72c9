import DriftCore
import Logging

/// Writes a transition as one structured log record: in the journal it is one entry with a fixed
/// `MESSAGE_ID` per new state and the `DRIFT_*` fields, so `journalctl DRIFT_STATE=drifted` finds it.
/// A transition while the machine is muted (`silenced`) carries `DRIFT_SILENCED=1` and the mute's reason.
public enum TransitionAnnouncer {
    public static func announce(_ transition: Transition, logger: Logger, silenced: Mute? = nil) {
        var metadata: Logger.Metadata = [
            "message_id": "\(JournalMessageID.transition(to: transition.state))",
            "drift_machine_id": "\(transition.machineID)",
            "drift_machine_name": "\(transition.machineName ?? transition.machineID)",
            "drift_state": "\(transition.state.rawValue)",
            "drift_previous_state": "\(transition.previous.rawValue)",
            "drift_event_id": "\(transition.eventID)",
            "drift_cause": "\(transition.cause.rawValue)",
            "drift_report_id": "\(transition.report?.id ?? "")",
        ]
        if let report = transition.report {
            metadata["drift_expires_at"] = "\(report.expiresAt)"
            if transition.state == .drifted {
                metadata["drift_attributes"] = "\(report.differingAttributes.joined(separator: ","))"
            }
        }
        if transition.firstObservation { metadata["drift_first_observation"] = "1" }
        if let silenced {
            metadata["drift_silenced"] = "1"
            metadata["drift_silence_reason"] = "\(silenced.reason)"
        }
        let level: Logger.Level = transition.state == .inSync ? .notice : .warning
        logger.log(level: level, "\(transition.message)", metadata: metadata)
    }
}
