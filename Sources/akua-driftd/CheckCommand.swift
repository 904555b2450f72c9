import AkuaAPI
import ArgumentParser
import DriftConfig
import DriftCore
import DriftDaemon
import Foundation
import Logging

/// `akua-driftd check MACHINE_ID`: one manual drift report now, printed; exit 0 in_sync, 1 drifted,
/// 2 error. It uses its own idempotency key (trigger `manual`) and never touches the state file.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Create one drift report now and print it (exit 0 in_sync, 1 drifted, 2 error).")

    @Argument(help: "The machine id (mch_...).", completion: MachineIDCompletion.kind)
    var machineID: String

    @OptionGroup var config: ConfigOption

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let loaded: LoadedConfig
        // Last resort for the token: the file the unit's LoadCredential=akua-token: points at, so root
        // gets the service's token with no flags.
        switch ConfigLoader.load(path: config.path, tokenFallbackFile: ServicePaths.tokenFile, secrets: .tokenOnly) {
        case .success(let value): loaded = value
        case .failure(let error):
            for diagnostic in error.diagnostics { FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8)) }
            throw ExitCode(2)
        }
        var logger = Logger(label: "akua-driftd.check")
        logger.logLevel = .critical
        let client: AkuaClient
        do {
            client = try AkuaClient(configuration: DaemonAssembly.clientConfiguration(loaded, environment: ProcessInfo.processInfo.environment), logger: logger)
        } catch {
            FileHandle.standardError.write(Data("akua-driftd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let now = SystemClock().nowMs()
        let key = IdempotencyKey(machineID: machineID, occurrence: Occurrence(kind: .manual, at: now), trigger: "manual")
        let outcome: Result<DriftReport, AkuaAPIError>
        do throws(AkuaAPIError) {
            outcome = .success(try await client.createDriftReport(machineID: machineID, idempotencyKey: key.value, trigger: "manual"))
        } catch {
            outcome = .failure(error)
        }
        await client.shutdown()
        switch outcome {
        case .success(let report):
            let machine = loaded.config.machines.first { $0.id == machineID }
            let label = machine?.name.map { "\($0) (\(machineID))" } ?? machineID
            // ignore_attributes of [notify] and of the machine (as `status` shows them).
            let ignored = (loaded.config.notify.ignoreAttributes ?? []).union(machine?.notify.ignoreAttributes ?? [])
            print(json
                ? ReportRendering.json(report, ignored: ignored)
                : ReportRendering.text(report, machineLabel: label, nowMs: SystemClock().nowMs(), ignored: ignored))
            if report.state == .drifted { throw ExitCode(1) }
        case .failure(let error):
            FileHandle.standardError.write(Data("akua-driftd: check of machine \(machineID) failed: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
