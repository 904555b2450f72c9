import AkuaAPI
import DriftCore

/// One check's I/O: the create, and for a 404 the `GET /machines/{id}` that tells a machine that is gone
/// from an operation that is unavailable (the contract's 404 body alone cannot tell them apart).
enum CheckRunner {
    static func run(
        source: any DriftReportSource, machineID: String, key: String, trigger: String,
        assumeOperationUnavailable: Bool
    ) async -> CheckResult {
        do throws(AkuaAPIError) {
            let sourced = try await source.createSourcedReport(machineID: machineID, idempotencyKey: key, trigger: trigger)
            return .report(sourced.report, serverDateMs: sourced.serverDateMs)
        } catch {
            guard case .unknownMachine = error else { return .failure(error) }
            // Confirmed unavailable for the fleet this interval already: no second request per machine.
            if assumeOperationUnavailable { return .operationUnavailable(error) }
            do throws(AkuaAPIError) {
                switch try await source.machineExists(machineID: machineID) {
                case .some(true): return .operationUnavailable(error)
                case .some(false): return .machineGone
                case .none: return .failure(error)
                }
            } catch {
                // The confirmation itself failed (timeout, 5xx...): retry the create later, same key.
                return .failure(error.isRetryable ? error : .transport("cannot confirm a 404 with GET /machines/{id}: \(error.description)"))
            }
        }
    }
}
