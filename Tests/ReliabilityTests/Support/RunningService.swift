import DriftDaemon
import Logging
import ServiceLifecycle

/// Runs `service` in a `ServiceGroup` of its own while `body` runs, then stops it gracefully and runs
/// `cleanup`, whether `body` returned or threw (a failing test still leaves nothing running).
func withRunningService(
    _ service: DaemonService, cleanup: () async -> Void = {}, _ body: () async throws -> Void
) async throws {
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: service)], logger: Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }))
    let running = Task { try await group.run() }
    do {
        try await body()
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await cleanup()
        throw error
    }
    await group.triggerGracefulShutdown()
    let stopped = await running.result
    await cleanup()
    try stopped.get()
}
