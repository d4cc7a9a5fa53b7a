import Dispatch

/// A copy of a quantized weight matrix regrouped for the decode (one-row) kernels: 16 rows side by side.
///
/// Why: the row-major GGUF layout makes a one-row product a horizontal dot product per output row; most of
/// the instructions then go into decoding one row's blocks and reducing one 512-bit accumulator. With
/// 16 rows interleaved, lane r of a 512-bit integer dot product (`vpdpbusd`) is row r, the
/// activation values are broadcast, and a row group's 16 results land in one register: no shuffles, no
/// horizontal sums, scales applied as 16-lane vectors. This is the idea behind llama.cpp's "repacked"
/// CPU buffers; the layout here is our own.
///
/// Layout: for each group of 16 rows and each 32-value block, one record of `recordBytes`:
/// - 16 fp16 block scales `d` (32 bytes), then for formats with a minimum 16 fp16 minimums `m`;
/// - the codes, as stored by the source format (zero point not removed):
///   - `.nibbles` (q4_0, q4_1, q5_0, q5_1): four 64-byte vectors; byte `4r + k` of vector `v` holds column
///     `4v + k` of row r in its low nibble and column `4(v + 4) + k` in its high nibble; the 5-bit formats
///     add, after the nibbles, eight 64-bit masks, one per 4-column chunk c, whose bit `4r + k` is the
///     fifth bit of column `4c + k` of row r;
///   - `.bytes` (q8_0): eight 64-byte vectors, byte `4r + k` of vector c is column `4c + k` of row r as an
///     unsigned byte (`q + 128`).
///
/// The record is exactly as large as the 16 source blocks it replaces, so a decode step reads the same
/// number of bytes as before. Rows must be a multiple of 16 and columns a multiple of 32.
public final class InterleavedWeights: @unchecked Sendable {
    /// How the codes of a record are stored (see the type's documentation); follows from the type.
    public enum Layout: Sendable {
        /// 4-bit codes (with an optional fifth bit plane).
        case nibbles
        /// 8-bit codes, offset to unsigned.
        case bytes
    }

    /// Rows regrouped per record.
    public static let groupRows = 16
    /// Values per block (every supported source format has 32-value blocks).
    public static let blockValues = 32

    /// Source tensor type.
    public let type: TensorType
    /// Code layout.
    public let layout: Layout
    /// Matrix rows (a multiple of 16) and columns (a multiple of 32).
    public let rows: Int, cols: Int
    /// Whether each code carries a fifth bit in a separate plane (q5_0, q5_1).
    public let hasHighBits: Bool
    /// Whether values are `code * d + m` (q4_1, q5_1) rather than `(code - zeroPoint) * d`.
    public let hasMinimum: Bool
    /// The unsigned offset of the stored codes (8 for q4_0, 16 for q5_0, 128 for q8_0, 0 otherwise).
    public let zeroPoint: Int32
    /// Bytes per record (16 rows x one block).
    public let recordBytes: Int
    /// Byte offset of the codes inside a record.
    let codesOffset: Int
    /// Byte offset of the fifth-bit masks inside a record (5-bit formats).
    let highBitsOffset: Int
    /// The records, group-major then block.
    let data: UnsafeMutableRawPointer

    /// Number of 16-row groups.
    public var groups: Int { rows / Self.groupRows }
    /// Blocks per row.
    public var blocks: Int { cols / Self.blockValues }
    /// Bytes held by the copy.
    public var byteCount: Int { groups * blocks * recordBytes }

    /// The layout of `type`'s codes, or nil when the type has no interleaved form.
    public static func layout(of type: TensorType) -> Layout? {
        switch type {
        case .q4_0, .q4_1, .q5_0, .q5_1: .nibbles
        case .q8_0: .bytes
        default: nil
        }
    }

    /// Regroups `w`; nil when its type has no interleaved form, its rows are not a multiple of 16 or its
    /// columns not a multiple of 32. Reads every block of `w` once.
    public init?(_ w: WeightMatrix) {
        guard let layout = Self.layout(of: w.type), w.rows > 0, w.rows % Self.groupRows == 0,
              w.cols % Self.blockValues == 0 else { return nil }
        type = w.type
        self.layout = layout
        rows = w.rows
        cols = w.cols
        hasMinimum = w.type == .q4_1 || w.type == .q5_1
        hasHighBits = w.type == .q5_0 || w.type == .q5_1
        switch w.type {
        case .q4_0: zeroPoint = 8
        case .q5_0: zeroPoint = 16
        case .q8_0: zeroPoint = 128
        default: zeroPoint = 0
        }
        codesOffset = hasMinimum ? 64 : 32
        let codeBytes = layout == .nibbles ? 256 : 512
        highBitsOffset = codesOffset + codeBytes
        recordBytes = highBitsOffset + (hasHighBits ? 64 : 0)
        let total = (w.rows / Self.groupRows) * (w.cols / Self.blockValues) * recordBytes
        data = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        // Row groups are independent records: large matrices (an output projection of 136M values) are
        // regrouped on every core.
        let groupCount = w.rows / Self.groupRows
        let parts = min(groupCount, max(1, total >> 22))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let lower = part * groupCount / parts, upper = (part + 1) * groupCount / parts
            fill(from: w, rows: (lower * Self.groupRows)..<(upper * Self.groupRows))
        }
    }

    deinit { data.deallocate() }

    /// Start of the record of row group `g`, block `b`.
    @inline(__always)
    func record(group g: Int, block b: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(data) + (g * blocks + b) * recordBytes
    }

    // MARK: - Filling from the source blocks

    /// Copies rows `rows` of `w` into their records. The source blocks store value j < 16 in the low
    /// nibble and j + 16 in the high nibble of byte j, which is exactly the byte the nibble layout wants for
    /// chunk j / 4 (low) and chunk j / 4 + 4 (high): four source bytes per 4-column chunk move as one word.
    private func fill(from w: WeightMatrix, rows: Range<Int>) {
        let blockBytes = w.type.blockBytes
        // Byte offset of the codes (`qs`) and of the fifth-bit word (`qh`) inside a source block.
        let qsOffset: Int, qhOffset: Int
        switch w.type {
        case .q4_0: (qsOffset, qhOffset) = (2, 0)
        case .q4_1: (qsOffset, qhOffset) = (4, 0)
        case .q5_0: (qsOffset, qhOffset) = (6, 2)
        case .q5_1: (qsOffset, qhOffset) = (8, 4)
        default: (qsOffset, qhOffset) = (2, 0)  // q8_0
        }
        for r in rows {
            let g = r / Self.groupRows, lane = r % Self.groupRows
            for b in 0..<blocks {
                let src = w.row(r) + b * blockBytes
                let dst = data + (g * blocks + b) * recordBytes
                dst.storeBytes(of: src.loadUnaligned(as: UInt16.self), toByteOffset: 2 * lane, as: UInt16.self)
                if hasMinimum {
                    dst.storeBytes(of: src.loadUnaligned(fromByteOffset: 2, as: UInt16.self),
                                   toByteOffset: 32 + 2 * lane, as: UInt16.self)
                }
                let codes = dst + codesOffset
                switch layout {
                case .nibbles:
                    for v in 0..<4 {
                        codes.storeBytes(of: src.loadUnaligned(fromByteOffset: qsOffset + 4 * v, as: UInt32.self),
                                         toByteOffset: 64 * v + 4 * lane, as: UInt32.self)
                    }
                    if hasHighBits {
                        let qh = UInt64(src.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self))
                        for c in 0..<8 {
                            let mask = dst + highBitsOffset + 8 * c
                            let bits = (qh >> UInt64(4 * c)) & 0xF
                            mask.storeBytes(of: mask.load(as: UInt64.self) | bits << UInt64(4 * lane), as: UInt64.self)
                        }
                    }
                case .bytes:
                    // Signed codes flipped to q + 128, four per word.
                    for c in 0..<8 {
                        let word = src.loadUnaligned(fromByteOffset: qsOffset + 4 * c, as: UInt32.self) ^ 0x8080_8080
                        codes.storeBytes(of: word, toByteOffset: 64 * c + 4 * lane, as: UInt32.self)
                    }
                }
            }
        }
    }

    // MARK: - Scalar read-back (for the twins and the tests)

    /// The stored code of (row, column), zero point not removed.
    public func code(row: Int, column: Int) -> Int32 {
        let rec = record(group: row / Self.groupRows, block: column / Self.blockValues)
        let r = row % Self.groupRows, c = column % Self.blockValues
        let codes = rec + codesOffset
        switch layout {
        case .nibbles:
            let chunk = c / 4, k = c % 4
            let byte = codes.load(fromByteOffset: 64 * (chunk % 4) + 4 * r + k, as: UInt8.self)
            var value = Int32(chunk < 4 ? byte & 0x0F : byte >> 4)
            if hasHighBits {
                let mask = rec.load(fromByteOffset: highBitsOffset + 8 * chunk, as: UInt64.self)
                if mask >> UInt64(4 * r + k) & 1 != 0 { value |= 0x10 }
            }
            return value
        case .bytes:
            return Int32(codes.load(fromByteOffset: 64 * (c / 4) + 4 * r + c % 4, as: UInt8.self))
        }
    }

    /// Scale `d` of (row, block).
    public func scale(row: Int, block: Int) -> Float {
        loadHalf(record(group: row / Self.groupRows, block: block), 2 * (row % Self.groupRows))
    }

    /// Minimum `m` of (row, block), 0 for formats without one.
    public func minimum(row: Int, block: Int) -> Float {
        hasMinimum ? loadHalf(record(group: row / Self.groupRows, block: block), 32 + 2 * (row % Self.groupRows)) : 0
    }

    /// The weight value at (row, column), as the source format defines it.
    public func value(row: Int, column: Int) -> Float {
        let b = column / Self.blockValues
        return Float(code(row: row, column: column) - zeroPoint) * scale(row: row, block: b) + minimum(row: row, block: b)
    }
}
