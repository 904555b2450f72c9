/// One Akua API operation this client performs, with the ids it addresses.
///
/// Error classification depends on it: a 404 means "unknown machine" on a machine's path but "unknown report"
/// for a report id, and 405/501 mean "drift reports unsupported" only on the drift report operations.
public enum AkuaEndpoint: Sendable, Hashable {
    /// `GET /machines`
    case listMachines
    /// `GET /machines/{id}`
    case getMachine(machineID: String)
    /// `POST /machines/{id}/drift_reports`
    case createDriftReport(machineID: String)
    /// `GET /machines/{id}/drift_reports`
    case listDriftReports(machineID: String)
    /// `GET /machines/{id}/drift_reports/{report_id}`
    case getDriftReport(machineID: String, reportID: String)

    /// The HTTP method of the operation.
    public var method: String {
        if case .createDriftReport = self { return "POST" }
        return "GET"
    }

    /// The path below the base URL, every id percent-encoded (e.g. `/machines/a%2Fb/drift_reports`).
    public var path: String {
        switch self {
        case .listMachines:
            return "/machines"
        case .getMachine(let machineID):
            return "/machines/\(PercentEncoding.segment(machineID))"
        case .createDriftReport(let machineID), .listDriftReports(let machineID):
            return "/machines/\(PercentEncoding.segment(machineID))/drift_reports"
        case .getDriftReport(let machineID, let reportID):
            return "/machines/\(PercentEncoding.segment(machineID))/drift_reports/\(PercentEncoding.segment(reportID))"
        }
    }

    /// The machine the operation addresses, if any.
    public var machineID: String? {
        switch self {
        case .listMachines: nil
        case .getMachine(let id), .createDriftReport(let id), .listDriftReports(let id), .getDriftReport(let id, _): id
        }
    }

    /// True for the three drift report operations (upstream marks them "scaffold-only").
    public var isDriftReportOperation: Bool {
        switch self {
        case .listMachines, .getMachine: false
        case .createDriftReport, .listDriftReports, .getDriftReport: true
        }
    }
}
