import DriftCore
import DriftTestSupport
import Foundation
import Testing

@testable import DriftWebhooks

/// Bodies of every event type (the policy's reminder, changed and group among them) for the schema and
/// rendering tests, with ids derived as /work/notify-spec.md prescribes.
enum PolicyEventFixtures {
    /// 2026-12-01T10:20:30Z.
    static let createdAt: Int64 = 1_796_120_430

    static func report(_ id: String, machine: String, state: ReportState = .drifted, delta: [String: JSONValue]?) -> DriftReport {
        DriftReport(
            id: id, machineID: machine, state: state, etag: "e-\(id)", createdAt: createdAt, startedAt: createdAt - 2,
            expiresAt: createdAt + 900, delta: delta)
    }

    static let drifted = Transition(
        machineID: "mch_1", machineName: "web-1", previous: .inSync, state: .drifted, cause: .report,
        report: report("drf_1", machine: "mch_1", delta: [
            "cpu": .object(["desired": .integer(2), "actual": .integer(4)]), "memory_mb": .object(["desired": .integer(8192), "actual": .integer(4096)]),
        ]),
        at: createdAt * 1000 + 7, firstObservation: false)

    /// `mch_2` turned unknown when its report expired.
    static let expired = Transition(
        machineID: "mch_2", machineName: nil, previous: .inSync, state: .unknown, cause: .expired,
        report: report("drf_2", machine: "mch_2", state: .inSync, delta: nil), at: (createdAt + 900) * 1000, firstObservation: false)

    static func reminderID(_ transition: Transition, _ n: Int) -> String {
        "evt_" + StableHash.sha256Hex([transition.eventID, "reminder", String(n)], length: 32)
    }

    /// The second reminder of `drifted`, due 2 × 4 h after it.
    static var reminder: [UInt8] {
        WebhookPayload.reminderBody(
            for: drifted, reminder: 2, eventID: reminderID(drifted, 2), dueAtMs: WebhookPayload.timestampMs(of: drifted) + 2 * 14_400_000)
    }

    static let changedReport = report("drf_3", machine: "mch_1", delta: [
        "memory_mb": .object(["desired": .integer(8192), "actual": .integer(2048)]), "disk_gb": .object(["desired": .integer(40), "actual": .integer(20)]),
    ])

    static var changed: [UInt8] {
        WebhookPayload.changedBody(
            machineID: "mch_1", machineName: "web-1", report: changedReport, previousAttributes: ["memory_mb", "cpu"],
            eventID: "evt_" + StableHash.sha256Hex(["mch_1", "drf_3", "changed"], length: 32))
    }

    static var notice: [UInt8] {
        WebhookPayload.body(for: CheckNotice(
            kind: .failing, machineID: "mch_1", machineName: "web-1", state: .drifted, consecutiveFailures: 3,
            lastError: "HTTP 503", reportID: "drf_1", at: createdAt * 1000))
    }

    static var test: [UInt8] { WebhookPayload.testBody(webhook: "chat", eventID: "evt_" + String(repeating: "0", count: 32), atMs: 0) }

    static func groupID(webhook: String, bucketStartMs: Int64) -> String {
        "evt_" + StableHash.sha256Hex([webhook, "group", String(bucketStartMs)], length: 32)
    }

    /// A transition of machine `id` (named `name`) from `previous` to `state`.
    static func transition(_ id: String, name: String?, _ previous: DriftState, _ state: DriftState) -> Transition {
        if state == .unknown {
            return Transition(
                machineID: id, machineName: name, previous: previous, state: .unknown, cause: .expired,
                report: report("drf_\(id)", machine: id, state: .inSync, delta: nil), at: 0, firstObservation: false)
        }
        let delta: [String: JSONValue]? = state == .drifted ? ["cpu": .integer(4)] : nil
        return Transition(
            machineID: id, machineName: name, previous: previous, state: state, cause: .report,
            report: report("drf_\(id)", machine: id, state: state == .drifted ? .drifted : .inSync, delta: delta), at: 0, firstObservation: false)
    }

    /// "3 machines changed: 2 unknown, 1 in sync": two machines turned unknown (an API outage) and one came back.
    static var group: [UInt8] {
        groupOf([
            WebhookPayload.body(for: transition("mch_a", name: "api-1", .inSync, .unknown)),
            WebhookPayload.body(for: transition("mch_b", name: nil, .drifted, .unknown)),
            WebhookPayload.body(for: transition("mch_c", name: "db-1", .unknown, .inSync)),
        ])
    }

    static func groupOf(_ members: [[UInt8]], webhook: String = "chat") -> [UInt8] {
        let bucket: Int64 = createdAt * 1000 / 30_000 * 30_000
        return WebhookPayload.groupBody(
            eventID: groupID(webhook: webhook, bucketStartMs: bucket), webhook: webhook, atMs: bucket + 30_000, members: members)
    }

    /// A group of every member type a webhook can get (transition, notice, reminder, changed).
    static var mixedGroup: [UInt8] { groupOf([WebhookPayload.body(for: expired), notice, reminder, changed]) }

    /// `count` machines with long multibyte names turning unknown at once: far beyond any service's limits.
    static func bigGroup(_ count: Int) -> [UInt8] {
        groupOf((0..<count).map { index in
            let name = String(repeating: "überlänger-Maschinenname-😀-", count: 12) + String(index)
            return WebhookPayload.body(for: transition("mch_big\(index)", name: name, .inSync, .unknown))
        })
    }

    static func json(_ body: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }
}

/// Runs a Python oracle (independent of akua-driftd's code) over a batch of stdin lines; one answer line each.
enum PythonOracle {
    static var python: String { IndependentWebhookCheck.python }
    static var available: Bool { FileManager.default.isExecutableFile(atPath: python) }

    static func run(_ arguments: [String], lines: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let input = Data(lines.map { $0 + "\n" }.joined().utf8)
        // Written from another thread: a large batch must not block on a full pipe while nobody reads.
        let writer = Thread { try? stdin.fileHandleForWriting.write(contentsOf: input); try? stdin.fileHandleForWriting.close() }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let answers = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        guard process.terminationStatus == 0, answers.count == lines.count else {
            throw HarnessError("\(python) \(arguments.first ?? "") exited \(process.terminationStatus) with \(answers.count) answers for \(lines.count) inputs: \(String(decoding: errors, as: UTF8.self).suffix(1500))")
        }
        return answers
    }

    /// Why each body does not validate against deploy/webhook-payload.schema.json (python3-jsonschema).
    static func schemaErrors(_ bodies: [[UInt8]]) throws -> [[String]] {
        let script = """
            import json, sys
            import jsonschema
            schema = json.load(open(sys.argv[1], encoding="utf-8"))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            for line in sys.stdin:
                instance = json.loads(line)
                errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
                print(json.dumps([("/".join(map(str, e.absolute_path)) or "(body)") + ": " + e.message[:300] for e in errors]), flush=True)
            """
        let lines = bodies.map { String(decoding: $0, as: UTF8.self) }
        return try run(["-c", script, IndependentWebhookCheck.schema], lines: lines).map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String]) ?? ["unreadable answer \(line)"]
        }
    }

    /// Why each rendered request is not what the service at `path` accepts (Tests/Support/receiver-shapes.py).
    static func shapeErrors(_ requests: [(path: String, rendered: WebhookFormat.Rendered)]) throws -> [[String]] {
        let lines = requests.map { request in
            let object: [String: String] = [
                "path": request.path, "content_type": request.rendered.contentType, "body": Data(request.rendered.body).base64EncodedString(),
            ]
            return String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
        }
        return try run([PackagePaths.root + "/Tests/Support/receiver-shapes.py", "--check"], lines: lines).map { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["errors"] as? [String]) ?? ["unreadable answer \(line)"]
        }
    }
}
