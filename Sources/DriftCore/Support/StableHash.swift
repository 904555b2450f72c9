import Crypto

/// Stable hashes that never change between runs, machines or releases (unlike `Hasher`).
public enum StableHash {
    /// 64-bit FNV-1a of the UTF-8 bytes: cheap, used to spread machines over their interval.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// Lowercase hex of the SHA-256 of `parts` joined by NUL bytes (NUL cannot occur in ids or states),
    /// cut to `length` digits. Hashes the strings' own UTF-8 storage and writes the hex in place: event ids
    /// and keys are made on every check.
    public static func sha256Hex(_ parts: [String], length: Int = 64) -> String {
        var hasher = SHA256()
        for (index, part) in parts.enumerated() {
            if index > 0 { withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) } }
            var part = part
            part.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        let digest = hasher.finalize()
        let count = max(0, min(length, 64))
        return String(unsafeUninitializedCapacity: count) { hex in
            var written = 0
            digest.withUnsafeBytes { bytes in
                func digit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }
                for byte in bytes where written < count {
                    hex[written] = digit(byte >> 4)
                    written += 1
                    if written < count {
                        hex[written] = digit(byte & 0x0F)
                        written += 1
                    }
                }
            }
            return written
        }
    }
}

/// SplitMix64: a tiny seedable generator so that jitter is reproducible under a printed seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
