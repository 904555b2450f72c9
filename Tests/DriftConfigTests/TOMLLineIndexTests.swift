import Testing

@testable import DriftConfig

@Suite struct TOMLLineIndexTests {
    private func key(_ parts: Any...) -> TOMLPath {
        parts.map { part in
            if let index = part as? Int { return .index(index) }
            return .key(part as! String)
        }
    }

    @Test func tablesArraysOfTablesAndKeys() {
        let index = TOMLLineIndex(text: """
            # comment [not] a table
            top = 1

            [api]
            base_url = "https://x" # trailing [comment]
              timeout = "5s"

            [[machine]]
            id = "a"

            [[machine]]
            id = "b"
            [machine.extra]
            deep = true
            [[machine]]
            id = "c"
            """)
        #expect(index.line(of: key("top")) == 2)
        #expect(index.line(of: key("api")) == 4)
        #expect(index.line(of: key("api", "base_url")) == 5)
        #expect(index.line(of: key("api", "timeout")) == 6)
        #expect(index.line(of: key("machine")) == 8)
        #expect(index.line(of: key("machine", 0)) == 8)
        #expect(index.line(of: key("machine", 0, "id")) == 9)
        #expect(index.line(of: key("machine", 1)) == 11)
        #expect(index.line(of: key("machine", 1, "id")) == 12)
        #expect(index.line(of: key("machine", 1, "extra")) == 13)
        #expect(index.line(of: key("machine", 1, "extra", "deep")) == 14)
        #expect(index.line(of: key("machine", 2, "id")) == 16)
        #expect(index.nearestLine(of: key("machine", 2, "name")) == 15)
        #expect(index.nearestLine(of: key("nothing", "here")) == 0)
    }

    @Test func multilineStringsDoNotOpenTables() {
        let index = TOMLLineIndex(text: #"""
            a = """
            [fake]
            x = 1 \"""
            still "" inside ""\
            """
            b = '''
            [[fake2]]
            '''
            c = """two quotes at the end"""""
            d = 'literal [x] # not a comment'
            [real]
            e = "esc \" [y] # z"
            """#)
        #expect(index.line(of: key("a")) == 1)
        #expect(index.line(of: key("b")) == 6)
        #expect(index.line(of: key("c")) == 9)
        #expect(index.line(of: key("d")) == 10)
        #expect(index.line(of: key("real")) == 11)
        #expect(index.line(of: key("real", "e")) == 12)
        #expect(index.line(of: key("fake")) == nil)
        #expect(index.line(of: key("fake2")) == nil)
        #expect(index.line(of: key("x")) == nil)
    }

    @Test func quotedAndDottedKeys() {
        let index = TOMLLineIndex(text: #"""
            "quoted key" = 1
            'literal.key' = 2
            site."google.com" . enabled = true
            [ "odd table" . 'sub' ]
            "\u0041" = 3
            [[ "arr" ]]
            x = 1
            """#)
        #expect(index.line(of: key("quoted key")) == 1)
        #expect(index.line(of: key("literal.key")) == 2)
        #expect(index.line(of: key("site")) == 3)
        #expect(index.line(of: key("site", "google.com", "enabled")) == 3)
        #expect(index.line(of: key("odd table", "sub")) == 4)
        #expect(index.line(of: key("odd table", "sub", "A")) == 5)
        #expect(index.line(of: key("arr", 0, "x")) == 7)
    }

    @Test func inlineTablesAndMultilineArrays() {
        let index = TOMLLineIndex(text: """
            machine = [
              { id = "a", name = "x" },  # first
              # a comment with ] and }
              { id = "b", interval = "5m" },
            ]
            events = ["drifted",
                      "bogus"]
            point = { x = 1, y = { z = [1, [2, 3]] } }
            when = 1979-05-27 07:32:00Z
            after = 1
            """)
        #expect(index.line(of: key("machine")) == 1)
        #expect(index.line(of: key("machine", 0, "id")) == 2)
        #expect(index.line(of: key("machine", 0, "name")) == 2)
        #expect(index.line(of: key("machine", 1, "interval")) == 4)
        #expect(index.line(of: key("events", 0)) == 6)
        #expect(index.line(of: key("events", 1)) == 7)
        #expect(index.line(of: key("point", "y", "z", 1, 0)) == 8)
        #expect(index.line(of: key("when")) == 9)
        #expect(index.line(of: key("after")) == 10)
    }

    @Test func windowsLineEndingsAndBOM() {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("[api]\r\ntimeout = \"1s\"\r\n\r\n[state]\r\npath = \"x\"\r\n".utf8)
        let index = TOMLLineIndex(bytes: bytes)
        #expect(index.line(of: key("api", "timeout")) == 2)
        #expect(index.line(of: key("state", "path")) == 5)
    }

    @Test func notesEscapedNulAndDeepNesting() {
        let nul = TOMLLineIndex(text: #"""
            ok = "fine"
            [machine]
            id = "a\u0000b"
            "k\U00000000" = 1
            """#)
        #expect(nul.nulCharacters.map(\.line) == [3, 4])
        #expect(nul.nulCharacters.first?.path == key("machine", "id"))

        let deepArray = TOMLLineIndex(text: "a = " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200))
        #expect(deepArray.tooDeep?.line == 1)
        let deepKey = TOMLLineIndex(text: "\n[" + Array(repeating: "a", count: 100).joined(separator: ".") + "]\n")
        #expect(deepKey.tooDeep?.line == 2)
        let fine = TOMLLineIndex(text: "a = " + String(repeating: "[", count: 30) + String(repeating: "]", count: 30))
        #expect(fine.tooDeep == nil)
    }

    @Test func survivesGarbage() {
        for text in ["[", "[[", "\"", "'''", "\"\"\"", "a = [", "a = {", "= = =", "[a.]", "a.\"b", "x = \"\\u", "\\"] {
            _ = TOMLLineIndex(text: text)
        }
    }
}
