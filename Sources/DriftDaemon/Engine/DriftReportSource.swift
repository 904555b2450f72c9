import AkuaAPI
import DriftCore

/// A report as the engine receives it: the report and the API's `Date` (for clock skew), if sent.
public struct SourcedReport: Sendable {
    public var report: DriftReport
    /// Unix ms from the response's `Date` header.
    public var serverDateMs: Int64?
    public init(report: DriftReport, serverDateMs: Int64? = nil) {
        self.report = report
        self.serverDateMs = serverDateMs
    }
}

/// Where drift reports come from: the Akua API client, or a test double.
public protocol DriftReportSource: Sendable {
    func createDriftReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> DriftReport
    /// The report with the response's metadata; by default the bare report.
    func createSourcedReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> SourcedReport
    /// Whether `GET /machines/{id}` knows the machine (confirms a 404 on create); nil when the source
    /// cannot tell, in which case a 404 counts as the machine being gone.
    func machineExists(machineID: String) async throws(AkuaAPIError) -> Bool?
    /// Starts a create and calls `completion` once, on any thread; the returned closure cancels it. By
    /// default a task around `createSourcedReport`; the Akua client answers from its event loop, taskless.
    func startSourcedReport(
        machineID: String, idempotencyKey: String, trigger: String,
        completion: @escaping @Sendable (Result<SourcedReport, AkuaAPIError>) -> Void
    ) -> @Sendable () -> Void
}

extension DriftReportSource {
    public func createSourcedReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> SourcedReport {
        SourcedReport(report: try await createDriftReport(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger))
    }

    public func machineExists(machineID: String) async throws(AkuaAPIError) -> Bool? { nil }

    public func startSourcedReport(
        machineID: String, idempotencyKey: String, trigger: String,
        completion: @escaping @Sendable (Result<SourcedReport, AkuaAPIError>) -> Void
    ) -> @Sendable () -> Void {
        let task = Task {
            do throws(AkuaAPIError) {
                completion(.success(try await createSourcedReport(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger)))
            } catch {
                completion(.failure(error))
            }
        }
        return { task.cancel() }
    }
}

extension AkuaClient: DriftReportSource {
    public func createDriftReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> DriftReport {
        try await createSourcedReport(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger).report
    }

    public func createSourcedReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> SourcedReport {
        let created: CreatedDriftReport = try await createDriftReport(
            machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger)
        return SourcedReport(report: created.report, serverDateMs: created.serverDateMs)
    }

    public func startSourcedReport(
        machineID: String, idempotencyKey: String, trigger: String,
        completion: @escaping @Sendable (Result<SourcedReport, AkuaAPIError>) -> Void
    ) -> @Sendable () -> Void {
        createDriftReport(machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger) { result in
            completion(result.map { SourcedReport(report: $0.report, serverDateMs: $0.serverDateMs) })
        }
    }

    public func machineExists(machineID: String) async throws(AkuaAPIError) -> Bool? {
        do {
            _ = try await getMachine(machineID: machineID)
            return true
        } catch {
            if case .unknownMachine = error { return false }
            throw error
        }
    }
}
