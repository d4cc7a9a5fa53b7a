import XCTest
@testable import PodKVKernels

/// Deterministic pseudo-random numbers (SplitMix64) so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
}

/// Builders for raw tensor rows used across the kernel tests.
enum TestData {
    /// Every type PodKV has kernels for.
    static let supportedTypes: [TensorType] = TensorType.allCases.filter(\.isSupported)

    /// `rows` rows of `cols` values of `type` as raw bytes. Types with a reference quantizer quantize random
    /// floats; K-quants are random bytes with their fp16 scales overwritten by small sane values (random
    /// bits there would include NaNs and huge magnitudes).
    static func randomRows(_ type: TensorType, rows: Int, cols: Int, rng: inout SeededRandom) -> [UInt8] {
        let rowBytes = type.byteCount(elements: cols)!
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        switch type {
        case .q4_K, .q5_K, .q6_K:
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            let blocks = rows * cols / 256
            for b in 0..<blocks {
                let base = b * type.blockBytes
                let scaleOffsets = type == .q6_K ? [208] : [0, 2]
                for off in scaleOffsets {
                    let v = Float16(Float.random(in: 0.0005...0.004, using: &rng))
                    bytes[base + off] = UInt8(v.bitPattern & 0xFF)
                    bytes[base + off + 1] = UInt8(v.bitPattern >> 8)
                }
            }
        default:
            let values = rng.floats(rows * cols)
            bytes.withUnsafeMutableBytes { raw in
                values.withUnsafeBufferPointer { v in
                    try! ReferenceKernels.quantize(type, v.baseAddress!, count: rows * cols, into: raw.baseAddress!)
                }
            }
        }
        return bytes
    }
}
