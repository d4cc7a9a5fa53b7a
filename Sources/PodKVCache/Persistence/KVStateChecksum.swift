import Foundation

/// A 64-bit checksum over a byte buffer, used to detect corrupt state files (not a cryptographic hash).
///
/// FNV-1a style mixing over 8-byte little-endian words plus a byte tail: a bit flip anywhere changes the
/// result, and it runs at memory speed on the tens of megabytes of a saved cache. It lives in this
/// optimised target so that debug builds of the engine hash quickly too.
public enum KVStateChecksum {
    /// Checksum of `bytes`.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let prime: UInt64 = 0x100_0000_01b3
        let words = bytes.count / 8
        for i in 0..<words {
            let w = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            h = (h ^ w) &* prime
            h ^= h >> 29
        }
        for i in (words * 8)..<bytes.count { h = (h ^ UInt64(bytes[i])) &* prime }
        return h ^ UInt64(bytes.count)
    }

    /// Checksum of `data`.
    public static func of(_ data: Data) -> UInt64 { data.withUnsafeBytes { of($0) } }
}
