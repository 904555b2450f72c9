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
