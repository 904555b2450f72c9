import TOMLKit

/// One TOML file's bytes checked and parsed: encoding, nesting depth, parser hazards and escaped NULs
/// first (TOMLKit must never see them), then TOMLKit itself; every problem is a diagnostic with its line.
/// Shared by the config file and its `machines.d` drop-ins.
enum TOMLDocument {
    /// The diagnostics so far (with the file's line index, for the validator) and the parsed root, nil
    /// when the file cannot be parsed. `machines` is set when the `[[machine]]` blocks were read by
    /// `PlainMachineBlocks` (then `root` has no `machine` key); nil when they are in `root` (always with
    /// `plainMachines: false`, which the tests use as the oracle).
    static func parse(_ bytes: [UInt8], file: String, plainMachines: Bool = true) -> (sink: DiagnosticSink, root: TOMLTable?, machines: [PlainMachineBlocks.Fields]?) {
        if let problem = EncodingCheck.firstProblem(in: bytes) {
            var sink = DiagnosticSink(file: file, index: TOMLLineIndex(bytes: []))
            sink.add(key: "(file)", line: problem.line, message: problem.message, severity: .error)
            return (sink, nil, nil)
        }
        let index = TOMLLineIndex(bytes: bytes)
        var sink = DiagnosticSink(file: file, index: index)
        if let deep = index.tooDeep {
            sink.add(
                key: deep.path.isEmpty ? "(syntax)" : deep.path.dotted, line: deep.line,
                message: "nested more than \(TOMLLineIndex.maxDepth) levels deep", severity: .error)
            return (sink, nil, nil)
        }
        if let hazard = index.hazard {
            sink.add(key: "(syntax)", line: hazard.line, message: "\(hazard.message) (column \(hazard.column))", severity: .error)
            return (sink, nil, nil)
        }
        for location in index.nulCharacters {
            sink.add(
                key: location.path.isEmpty ? "(syntax)" : location.path.dotted, line: location.line,
                message: "contains an escaped NUL character (\\u0000), which is not allowed", severity: .error)
        }
        if sink.hasErrors { return (sink, nil, nil) }
        if plainMachines, let plain = PlainMachineBlocks.extract(bytes, blocks: index.machineBlocks),
           let root = try? TOMLTable(string: String(decoding: plain.remainder, as: UTF8.self)) {
            // `machine` defined elsewhere as well (`[machine.x]`, `machine = ...`): TOMLKit decides on the whole.
            if !root.contains(key: "machine") { return (sink, root, plain.machines) }
            root.clear()
        }
        do {
            return (sink, try TOMLTable(string: String(decoding: bytes, as: UTF8.self)), nil)
        } catch let error as TOMLParseError {
            let column = error.source.begin.column
            sink.add(
                key: "(syntax)", line: max(0, error.source.begin.line),
                message: TOMLPathFormat.oneLine(column > 0 ? "\(error.description) (column \(column))" : error.description),
                severity: .error)
        } catch {
            sink.add(key: "(syntax)", line: 0, message: TOMLPathFormat.oneLine("cannot parse: \(error)"), severity: .error)
        }
        return (sink, nil, nil)
    }
}
