import Foundation

@testable import DriftConfig

/// Python's `zoneinfo` (the system tz database) as an independent oracle for `MaintenanceWindow`: the
/// same rules (local wall-clock windows; a skipped time means the first instant after it; a repeated
/// `from` its first occurrence, a repeated `to` its second), computed with `fold` and a search instead
/// of Foundation's offsets.
enum PythonOracle {
    /// Whether `python3` runs and knows the zones the tests use.
    static let available: Bool = {
        (try? run(input: Data(), script: "import zoneinfo\nfor z in ['Europe/Berlin','America/New_York','Australia/Lord_Howe','UTC']: zoneinfo.ZoneInfo(z)\n")) != nil
    }()

    struct Answer {
        var until: Int64?
        var start: Int64?
    }

    struct Evaluation {
        /// Per case, per instant.
        var results: [[Answer]]
        /// Occurrence boundaries the oracle met at a time the clock skips, or shows twice.
        var skipped: Int
        var repeated: Int
    }

    static func evaluate(_ cases: [(window: MaintenanceWindow, instants: [Int64])]) throws -> Evaluation {
        let request: [[String: Any]] = cases.map { window, instants in
            [
                "zone": window.timeZoneName, "days": window.days.map(\.rawValue).sorted(), "from": window.fromMinute,
                "to": window.toMinute, "instants": instants,
            ]
        }
        let output = try run(input: JSONSerialization.data(withJSONObject: request), script: script)
        guard let object = try JSONSerialization.jsonObject(with: output) as? [String: Any],
            let results = object["results"] as? [[[Any]]], let skipped = object["skipped"] as? Int,
            let repeated = object["repeated"] as? Int
        else { throw OracleError.badOutput(String(decoding: output, as: UTF8.self)) }
        let number = { (value: Any) -> Int64? in (value as? NSNumber)?.int64Value }
        return Evaluation(
            results: results.map { $0.map { Answer(until: number($0[0]), start: number($0[1])) } }, skipped: skipped,
            repeated: repeated)
    }

    enum OracleError: Error {
        case failed(Int32, String)
        case badOutput(String)
    }

    private static func run(input: Data, script: String) throws -> Data {
        // The request goes through a file (a pipe would need a writer thread next to the reader); the
        // answer is read from a pipe until Python exits, its errors from a file.
        let directory = TempDirectory()
        let inputPath = directory.write("request.json", bytes: Array(input))
        let errorPath = directory.write("stderr", "")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdout = Pipe()
        process.standardInput = FileHandle(forReadingAtPath: inputPath)
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = FileManager.default.contents(atPath: errorPath) ?? Data()
        guard process.terminationStatus == 0 else {
            throw OracleError.failed(process.terminationStatus, String(decoding: errors, as: UTF8.self))
        }
        return output
    }

    static let script = #"""
import json, sys
from datetime import datetime, timedelta, time
from zoneinfo import ZoneInfo

stats = {"skipped": 0, "repeated": 0}

def wall(tz, seconds):
    return datetime.fromtimestamp(seconds, tz).replace(tzinfo=None)

def resolve(tz, naive, earliest):
    """The instant (unix s) the clock shows `naive`: the first (earliest) or last of two, or the first
    instant past it when the clock skips it."""
    u0 = int(naive.replace(tzinfo=tz, fold=0).timestamp())
    u1 = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    valid = sorted({u for u in (u0, u1) if wall(tz, u) == naive})
    if len(valid) == 2:
        stats["repeated"] += 1
    if valid:
        return valid[0] if earliest else valid[-1]
    stats["skipped"] += 1
    low, high = min(u0, u1), max(u0, u1)
    while low < high:  # the first second whose wall time is past `naive`
        middle = (low + high) // 2
        if wall(tz, middle) > naive:
            high = middle
        else:
            low = middle + 1
    return low

def occurrence(case, tz, instant_ms):
    seconds = instant_ms // 1000
    today = wall(tz, seconds).date()
    start_minute, end_minute = case["from"], case["to"]
    found = None
    for back in (2, 1, 0):
        day = today - timedelta(days=back)
        if day.isoweekday() not in case["days"]:
            continue
        start = datetime.combine(day, time(start_minute // 60, start_minute % 60))
        end_day = day + timedelta(days=1) if end_minute <= start_minute else day
        end = datetime.combine(end_day, time(end_minute // 60, end_minute % 60))
        s = resolve(tz, start, True) * 1000
        e = resolve(tz, end, False) * 1000
        if s <= instant_ms < e and (found is None or e > found[0]):
            found = (e, s)
    return [found[0], found[1]] if found else [None, None]

cases = json.load(sys.stdin)
results = []
for case in cases:
    tz = ZoneInfo(case["zone"])
    results.append([occurrence(case, tz, t) for t in case["instants"]])
json.dump({"results": results, **stats}, sys.stdout)
"""#
}
