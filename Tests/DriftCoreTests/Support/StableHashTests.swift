import DriftCore
import Testing

@Suite("Stable hashes and the seeded generator")
struct StableHashTests {
    @Test("FNV-1a 64 matches the reference test vectors")
    func fnvVectors() {
        #expect(StableHash.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(StableHash.fnv1a64("foobar") == 0x8594_4171_f739_67e8)
        #expect(StableHash.fnv1a64("web-1") == 0x666f_c22e_095c_221f)
    }

    @Test("sha256Hex: lowercase hex of SHA-256 over the NUL-joined parts, truncated to length")
    func sha256() {
        #expect(StableHash.sha256Hex(["abc"]) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(StableHash.sha256Hex(["a", "b"]) == "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138")
        #expect(StableHash.sha256Hex(["abc"], length: 8) == "ba7816bf")
        #expect(StableHash.sha256Hex(["abc"], length: 100).count == 64)
        #expect(StableHash.sha256Hex(["ab", "c"]) != StableHash.sha256Hex(["a", "bc"]))
        #expect(StableHash.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// Event ids and keys must never change between releases: the in-place writer is held to FIPS 180-2's
    /// vector and to digests computed by Python's `hashlib` (an independent implementation).
    @Test("SHA-256 hex of NUL-joined parts matches published and independently computed digests", arguments: [
        (["abc"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),  // FIPS 180-2, B.1
        ([""], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (["mch_1", "drf_3", "changed"], "ee7e8896c16b2a4ddba8be6c3ba2265ff1041b77c52ef2a86b328d0c5a7dc82d"),
        (["é✓", "", ""], "92c93e278d2face041097f13cb8efec9b69325847a0914936c1c0099690942bb"),
        ([String(repeating: "x", count: 200)], "aa20c23e3201834050679e1d88941b9a6fed0557c9a705cb2c315e2e63fd486d"),
    ])
    func knownAnswers(parts: [String], hex: String) {
        #expect(StableHash.sha256Hex(parts) == hex)
        #expect(StableHash.sha256Hex(parts, length: 32) == String(hex.prefix(32)))
        #expect(StableHash.sha256Hex(parts, length: 16) == String(hex.prefix(16)))
        #expect(StableHash.sha256Hex(parts, length: 0) == "")
    }

    @Test("SplitMix64 is the reference generator: same seed, same sequence")
    func splitMix() {
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xe220_a839_7b1d_cdaf)
        #expect(zero.next() == 0x6e78_9e6a_a1b9_65f4)
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42), c = SplitMix64(seed: 43)
        let sa = (0..<5).map { _ in a.next() }
        #expect(sa == (0..<5).map { _ in b.next() })
        #expect(sa != (0..<5).map { _ in c.next() })
    }
}
