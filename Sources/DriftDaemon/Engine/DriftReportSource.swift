import AkuaAPI
import DriftCore

/// Where drift reports come from: the Akua API in production, a scripted fake in unit tests.
public protocol DriftReportSource: Sendable {
    func createDriftReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> DriftReport
}

extension AkuaClient: DriftReportSource {
    public func createDriftReport(machineID: String, idempotencyKey: String, trigger: String) async throws(AkuaAPIError) -> DriftReport {
        let created: CreatedDriftReport = try await createDriftReport(
            machineID: machineID, idempotencyKey: idempotencyKey, trigger: trigger)
        return created.report
    }
}

/// The wall clock in unix milliseconds, injected so tests can jump it forward and back.
public protocol EngineClock: Sendable {
    func nowMs() -> Int64
}

/// The real wall clock.
public struct SystemClock: EngineClock {
    public init() {}
    public func nowMs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
