import AkuaAPI
import DriftCore

/// One check's I/O: the create, and for a 404 the `GET /machines/{id}` that tells a machine that is gone
/// from an operation that is unavailable (the contract's 404 body alone cannot tell them apart).
enum CheckRunner {
    /// Starts one check; `completion` runs once with its result, on whatever thread the source answers
    /// on (for the Akua client, an event loop: no task is created unless a 404 must be confirmed).
    /// Returns a closure that cancels the create.
    static func start(
        source: any DriftReportSource, machineID: String, key: String, trigger: String,
        assumeOperationUnavailable: Bool, completion: @escaping @Sendable (CheckResult) -> Void
    ) -> @Sendable () -> Void {
        source.startSourcedReport(machineID: machineID, idempotencyKey: key, trigger: trigger) { result in
            switch result {
            case .success(let sourced):
                completion(.report(sourced.report, serverDateMs: sourced.serverDateMs))
            case .failure(let error):
                guard case .unknownMachine = error else { return completion(.failure(error)) }
                // Confirmed unavailable for the fleet this interval already: no second request per machine.
                if assumeOperationUnavailable { return completion(.operationUnavailable(error)) }
                Task { completion(await confirmUnknown(error, source: source, machineID: machineID)) }
            }
        }
    }

    /// A 404 on create: `GET /machines/{id}` tells a machine that is gone from an operation unavailable.
    private static func confirmUnknown(
        _ error: AkuaAPIError, source: any DriftReportSource, machineID: String
    ) async -> CheckResult {
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
