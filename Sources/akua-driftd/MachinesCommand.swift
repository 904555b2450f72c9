import AkuaAPI
import ArgumentParser
import DriftConfig
import DriftDaemon
import Foundation
import Logging

/// `akua-driftd machines ...`: fleet onboarding.
struct MachinesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "machines", abstract: "Fleet onboarding: list the API's machines as [[machine]] blocks.",
        subcommands: [MachinesImportCommand.self])
}

/// `akua-driftd machines import [--state S]... [--cluster ID]... [--output FILE]`: every machine `GET /machines`
/// lists (all pages), printed as `[[machine]]` blocks or written atomically to a `machines.d` drop-in.
/// Exit 0 on success, 2 when the config or the API fails, 64 for a filter value the API contract forbids.
struct MachinesImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "List machines through GET /machines (every page) and print [[machine]] blocks or write a drop-in.")

    @Option(name: .customLong("state"), help: "Only machines in this lifecycle state (ACTIVE, PROVISIONING, SUSPENDING, SUSPENDED, RESUMING, DELETING); repeatable.",
            completion: .list(MachineLifecycleState.documented.map(\.rawValue)))
    var states: [String] = []

    @Option(name: .customLong("cluster"), help: "Only machines of this cluster id; repeatable.")
    var clusters: [String] = []

    @Option(help: "Machines per request (1-100; the API's default is 50).")
    var limit: Int?

    @Option(help: "Write the blocks to this file atomically (e.g. /etc/akua-driftd/machines.d/50-import.toml) instead of stdout.",
            completion: .file(extensions: ["toml"]))
    var output: String?

    @OptionGroup var config: ConfigOption

    var query: MachineListQuery { MachineListQuery(states: states, clusterIDs: clusters, pageSize: limit) }

    func validate() throws {
        // Checked against the contract before the config is read or any request is sent.
        if let problem = query.problem { throw ValidationError(problem) }
    }

    func run() async throws {
        let loaded: LoadedConfig
        switch ConfigLoader.load(path: config.path, tokenFallbackFile: ServicePaths.tokenFile, secrets: .tokenOnly) {
        case .success(let value): loaded = value
        case .failure(let error):
            for diagnostic in error.diagnostics { Self.warn(diagnostic.description) }
            throw ExitCode(2)
        }
        var logger = Logger(label: "akua-driftd.machines")
        logger.logLevel = .critical
        let client: AkuaClient
        do {
            client = try AkuaClient(
                configuration: DaemonAssembly.clientConfiguration(loaded, environment: ProcessInfo.processInfo.environment),
                logger: logger)
        } catch {
            Self.warn("akua-driftd: \(error)")
            throw ExitCode(2)
        }
        let outcome: Result<MachineListing, AkuaAPIError>
        do throws(AkuaAPIError) {
            outcome = .success(try await client.listAllMachines(query))
        } catch {
            outcome = .failure(error)
        }
        await client.shutdown()
        let listing: MachineListing
        switch outcome {
        case .success(let value): listing = value
        case .failure(let error):
            Self.warn("akua-driftd: listing machines failed: \(error)")
            throw ExitCode(2)
        }
        if let cursor = listing.repeatedCursor {
            Self.warn("akua-driftd: warning: the API repeated cursor \"\(cursor.prefix(80))\"; the listing stopped there")
        }
        var filters: [String] = states.map { "state=\($0)" } + clusters.map { "cluster_id=\($0)" }
        if filters.isEmpty { filters = ["all machines"] }
        let (text, skipped) = MachineBlocks.render(
            listing.machines.map { MachineSettings(id: $0.id, name: $0.name) },
            header: [
                "Written by akua-driftd machines import from \(loaded.config.api.baseURL) (\(filters.joined(separator: ", "))):",
                "\(listing.machines.count) machines in \(listing.pages) pages.",
            ])
        for id in skipped { Self.warn("akua-driftd: warning: machine id \"\(id.prefix(80))\" is not valid in the config; left out") }
        if let output {
            do {
                try MachineBlocks.writeAtomically(text, to: output)
            } catch {
                Self.warn("akua-driftd: cannot write \(error)")
                throw ExitCode(2)
            }
            Self.warn("akua-driftd: wrote \(listing.machines.count - skipped.count) machines to \(output); apply with: systemctl reload akua-driftd")
        } else {
            print(text, terminator: "")
        }
    }

    private static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
