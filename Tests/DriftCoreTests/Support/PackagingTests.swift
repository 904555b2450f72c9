import DriftCore
import DriftTestSupport
import Foundation
import Testing

/// What the Debian package and `make install` ship around the binary, checked with independent tools:
/// dpkg-parsechangelog for the version, man (groff) for the pages, bash for the completions.
@Suite("Packaging: version, man pages, completions")
struct PackagingTests {
    static let root = PackagePaths.root

    @Test(
        "debian/changelog's version is akuaDriftdVersion (the .deb and --version agree)",
        .enabled(if: TestPreconditions.tool("dpkg-parsechangelog") != nil, "needs dpkg-parsechangelog (Debian: dpkg-dev)"))
    func changelogVersion() throws {
        let result = TestPreconditions.run(
            TestPreconditions.tool("dpkg-parsechangelog")!, ["-l", Self.root + "/debian/changelog", "-S", "Version"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == akuaDriftdVersion)
    }

    @Test("--version prints the version, then revision, build date and Swift version")
    func versionOutput() throws {
        let result = TestPreconditions.run(try PackagePaths.binary("akua-driftd"), ["--version"])
        #expect(result.status == 0)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(lines)")
        guard lines.count == 4 else { return }
        #expect(lines[0] == akuaDriftdVersion)
        #expect(lines[1].hasPrefix("revision: ") && lines[1].count > "revision: ".count)
        #expect(lines[2].hasPrefix("built: ") && lines[2].count > "built: ".count)
        // The compiler that built this test built the binary too.
        #if compiler(>=6.3)
        #expect(lines[3].hasPrefix("swift: Swift version 6."), "\(lines[3])")
        #endif
    }

    @Test(
        "man renders both pages without a warning, with the sections they promise",
        .enabled(if: TestPreconditions.tool("man") != nil, "needs man (Debian: man-db, groff-base)"))
    func manPagesRender() throws {
        let pages: [(file: String, sections: [String])] = [
            ("doc/man/akua-driftd.8", ["NAME", "SYNOPSIS", "COMMANDS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "SIGNALS", "EXAMPLES"]),
            ("doc/man/akua-driftd.toml.5", ["NAME", "DESCRIPTION", "[api]", "[schedule]", "[state]", "[[webhook]]", "[[machine]]"]),
        ]
        for page in pages {
            let warnings = TestPreconditions.run("/bin/sh", ["-c", "man --warnings -l \"$0\" 2>&1 >/dev/null", Self.root + "/" + page.file])
            #expect(warnings.status == 0 && warnings.output.isEmpty, "\(page.file): \(warnings.output)")
            let text = TestPreconditions.run("/bin/sh", ["-c", "MANWIDTH=100 man -P cat -l \"$0\"", Self.root + "/" + page.file])
            #expect(text.status == 0)
            let headings = Set(text.output.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map(String.init))
            for section in page.sections {
                #expect(headings.contains(section), "\(page.file): no section \(section)")
            }
        }
    }

    @Test("akua-driftd(8) describes every command and option the parser knows")
    func manPageCoversTheCommandLine() throws {
        let dump = TestPreconditions.run(try PackagePaths.binary("akua-driftd"), ["--experimental-dump-help"])
        #expect(dump.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(dump.output.utf8)) as? [String: Any]
        let page = try String(contentsOfFile: Self.root + "/doc/man/akua-driftd.8", encoding: .utf8)
        // mdoc escapes hyphens (\-), and `.Fl` adds the first dash of an option: `.Fl \-config` is --config.
        let text = page.replacingOccurrences(of: "\\-", with: "-")
        var missing: [String] = []
        func walk(_ command: [String: Any], path: [String]) {
            guard command["shouldDisplay"] as? Bool ?? true else { return }
            if path.count > 1, !text.contains(".Cm " + path.dropFirst().joined(separator: " ")) {
                missing.append("command " + path.joined(separator: " "))
            }
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                guard argument["shouldDisplay"] as? Bool ?? true else { continue }
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    let option = name["name"] as? String ?? ""
                    if !text.contains("Fl -" + option) { missing.append("option --\(option) of " + path.joined(separator: " ")) }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] where sub["commandName"] as? String != "help" {
                walk(sub, path: path + [sub["commandName"] as? String ?? "?"])
            }
        }
        walk(json?["command"] as? [String: Any] ?? [:], path: ["akua-driftd"])
        #expect(missing.isEmpty, "not in doc/man/akua-driftd.8: \(missing)")
    }

    @Test(
        "bash completion: --config offers .toml files, check offers the config's machine ids",
        .enabled(if: TestPreconditions.tool("bash") != nil, "needs bash"))
    func bashCompletion() throws {
        let binary = try PackagePaths.binary("akua-driftd")
        let directory = try TemporaryDirectory("akua-completion")
        let bin = directory.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: bin + "/akua-driftd", withDestinationPath: binary)
        let config = try directory.write("fleet.toml", """
            [[machine]]
            id = "mch_web1"
            [[machine]]
            id = "mch_web2"
            [[machine]]
            id = "mch_db1"
            """, mode: 0o644)
        _ = try directory.write("notes.txt", "not a config\n", mode: 0o644)
        let script = TestPreconditions.run(binary, ["--generate-completion-script", "bash"])
        #expect(script.status == 0)
        let scriptFile = try directory.write("akua-driftd.bash", script.output, mode: 0o644)
        // complete LINE: runs the completion function as bash would at the end of LINE; one candidate per line.
        let driver = """
            export PATH="$1:$PATH"; source "$2"; cd "$3"
            complete() {
                COMP_LINE=$1; COMP_POINT=${#1}; read -ra COMP_WORDS <<< "$1"
                [[ $1 == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
                _akua-driftd akua-driftd "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
                printf '%s\\n' "${COMPREPLY[@]}" | sort
            }
            echo "ids:"; complete "akua-driftd check --config \(config) mch_web"
            echo "all:"; complete "akua-driftd check --config \(config) "
            echo "missing:"; complete "akua-driftd check --config /nonexistent/config.toml "
            echo "files:"; complete "akua-driftd status --config "
            """
        let result = TestPreconditions.run(TestPreconditions.tool("bash")!, ["-c", driver, "bash", bin, scriptFile, directory.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == """
            ids:
            mch_web1
            mch_web2
            all:
            mch_db1
            mch_web1
            mch_web2
            missing:

            files:
            bin
            fleet.toml

            """)
    }
}
