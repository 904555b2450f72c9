/// In-process equivalents of the `/_sim` admin endpoints (same state, no HTTP round trip).
public struct SimulatorControl: Sendable {
    let state: SimulatorState

    /// Pins `machineID` to `state` from now on (overrides its scenario). `PUT /_sim/machines/{id}/state`.
    public func setState(_ state: ReportStateName, machineID: String) throws(SimulatorControlError) {
        do {
            try self.state.setState(state, machineID: machineID)
        } catch {
            throw SimulatorControlError(error)
        }
    }

    /// Pins the attributes (of image, cpu, memory_mb, labels, firewall) that `machineID`'s drifted reports
    /// name from now on; nil goes back to a seeded choice of 1-4.
    public func setDriftAttributes(_ names: [String]?, machineID: String) throws(SimulatorControlError) {
        do {
            try state.setDriftAttributes(names, machineID: machineID)
        } catch {
            throw SimulatorControlError(error)
        }
    }

    /// Adds a machine. `POST /_sim/machines`.
    public func addMachine(_ machine: SimulatedMachine) throws(SimulatorControlError) {
        do {
            try state.addMachine(machine)
        } catch {
            throw SimulatorControlError(error)
        }
    }

    /// Deletes a machine; it answers 404 afterwards. `DELETE /_sim/machines/{id}`.
    public func deleteMachine(id: String) throws(SimulatorControlError) {
        do {
            try state.deleteMachine(id: id)
        } catch {
            throw SimulatorControlError(error)
        }
    }

    /// Replaces the fault configuration (`.none` clears it). `PUT` / `DELETE /_sim/faults`.
    public func setFaults(_ faults: SimulatorFaults) throws(SimulatorControlError) {
        do {
            try faults.validate()
        } catch {
            throw .invalid(error.message)
        }
        state.setFaults(faults)
    }

    /// Current faults (`failNext` shows the forced failures still pending). `GET /_sim/faults`.
    public func faults() -> SimulatorFaults {
        state.currentFaults()
    }

    /// Rotates the accepted bearer token. `PUT /_sim/token`.
    public func setToken(_ token: String) {
        state.setToken(token)
    }

    /// Changes the TTL of reports created from now on. `PUT /_sim/ttl`.
    public func setTTL(seconds: Int64) {
        state.setTTL(seconds: seconds)
    }

    /// Shifts the simulator's clock (`Date` header and rendered timestamps) by `seconds`. `PUT /_sim/clock_skew`.
    public func setClockSkew(seconds: Int64) throws(SimulatorControlError) {
        do {
            try SimulatorOptions.validate(clockSkewSeconds: seconds)
        } catch {
            throw .invalid(error.message)
        }
        state.setClockSkew(seconds: seconds)
    }

    /// Makes the drift report operations answer `status` (404, 405, 501; nil restores them) while
    /// `GET /machines/{id}` keeps answering. `PUT /_sim/drift_ops_status`.
    public func setDriftOpsStatus(_ status: Int?) throws(SimulatorControlError) {
        do {
            try SimulatorOptions.validate(driftOpsStatus: status)
        } catch {
            throw .invalid(error.message)
        }
        state.setDriftOpsStatus(status)
    }

    /// Requires this `akua-context` on every `/v1` request (403 otherwise); nil accepts any. `PUT /_sim/context`.
    public func setRequiredContext(_ context: String?) throws(SimulatorControlError) {
        do {
            try SimulatorOptions.validate(requiredContext: context)
        } catch {
            throw .invalid(error.message)
        }
        state.setRequiredContext(context)
    }

    /// Turns the 415 for a create body not sent as `application/json` on or off.
    public func setStrictContentType(_ strict: Bool) {
        state.setStrictContentType(strict)
    }

    /// Counter snapshot. `GET /_sim/stats`.
    public func stats() -> SimulatorStats {
        state.stats()
    }
}

/// Why an in-process control operation was refused.
public enum SimulatorControlError: Error, Sendable, Equatable {
    case unknownMachine(String)
    case duplicateMachine(String)
    case invalid(String)

    init(_ error: SimulatorState.AdminError) {
        switch error {
        case .unknownMachine(let id): self = .unknownMachine(id)
        case .duplicateMachine(let id): self = .duplicateMachine(id)
        case .invalid(let message): self = .invalid(message)
        }
    }
}
