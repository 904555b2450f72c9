import ArgumentParser
import AsyncHTTPClient
import DriftConfig
import DriftCore
import DriftDaemon
import DriftWebhooks
import Foundation

/// `akua-driftd webhook`: commands about the configured receivers.
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Commands about the configured webhooks.", subcommands: [WebhookTestCommand.self])
}

/// `akua-driftd webhook test NAME`: sends one `machine.drift.test` event through the real receiver, in
/// its format (signed when standard), and prints the answer; exit 0 on 2xx, 1 otherwise, 78 on a bad
/// config. A PagerDuty test is triggered and resolved at once, so it leaves no open incident.
struct WebhookTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Send a test event to one webhook and print its answer (exit 0 on 2xx).")

    @Argument(help: "The webhook's name (its `name`, else its URL's host).")
    var name: String

    @OptionGroup var config: ConfigOption

    func run() async throws {
        let loaded: LoadedConfig
        switch ConfigLoader.load(path: config.path, credentialFallbacks: ServicePaths.credentialFallbacks) {
        case .success(let value): loaded = value
        case .failure(let error):
            for diagnostic in error.diagnostics { FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8)) }
            throw ExitCode(78)
        }
        let endpoints: [WebhookEndpoint]
        do {
            endpoints = try DaemonAssembly.endpoints(loaded)
        } catch {
            FileHandle.standardError.write(Data("akua-driftd: \(error)\n".utf8))
            throw ExitCode(78)
        }
        guard let endpoint = endpoints.first(where: { $0.label == name }) else {
            let names = endpoints.map { "\"\($0.label)\"" }.joined(separator: ", ")
            FileHandle.standardError.write(Data("akua-driftd: no webhook named \"\(name)\" in \(config.path) (configured: \(names.isEmpty ? "none" : names))\n".utf8))
            throw ExitCode(2)
        }
        let now = SystemClock().nowMs()
        var random = SystemRandomNumberGenerator()
        let eventID = "evt_" + (0..<2).map { _ in String(random.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
        let body = WebhookPayload.testBody(webhook: endpoint.label, eventID: eventID, atMs: now)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: WebhookRequest.clientConfiguration(for: endpoint))
        let host = URLComponents(string: endpoint.url)?.host ?? "?"
        print("webhook \(endpoint.label) (\(endpoint.format.rawValue), \(host)): test event \(eventID)")
        let actions: [WebhookFormat.Action?] = endpoint.format == .pagerduty ? [.trigger, .resolve] : [nil]
        var allOK = true
        for action in actions {
            let request: HTTPClientRequest
            do {
                request = try WebhookRequest.make(
                    endpoint: endpoint, eventID: eventID, body: body, timestamp: now / 1000,
                    userAgent: "akua-driftd/\(akuaDriftdVersion)", action: action)
            } catch {
                FileHandle.standardError.write(Data("akua-driftd: \(error)\n".utf8))
                try? await client.shutdown()
                throw ExitCode(1)
            }
            let label = action.map { " \($0.rawValue)" } ?? ""
            do {
                let response = try await client.execute(request, timeout: .milliseconds(endpoint.timeoutMs))
                let answer = try await response.body.collect(upTo: 64 * 1024)
                let text = String(buffer: answer).prefix(500)
                print("\(label.isEmpty ? "" : label.dropFirst() + ": ")HTTP \(response.status.code) \(response.status.reasonPhrase)\(text.isEmpty ? "" : "\n" + text)")
                if !(200..<300).contains(Int(response.status.code)) { allOK = false }
            } catch {
                print("\(label.isEmpty ? "" : label.dropFirst() + ": ")no answer: \(error)")
                allOK = false
            }
        }
        try? await client.shutdown()
        if !allOK { throw ExitCode(1) }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
