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
