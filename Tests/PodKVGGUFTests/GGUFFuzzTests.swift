import Foundation
import PodKVKernels
import XCTest

@testable import PodKVGGUF

/// Seeded fuzzing: thousands of damaged copies of a small valid file. Each must either open (and then
/// be fully readable) or throw a `GGUFError`; a trap, a crash or a hang fails the run. Failures
/// reproduce from the seed and iteration number printed in the message.
final class GGUFFuzzTests: XCTestCase {
    static let seed: UInt64 = 0x5EED_0F_6606

    /// A file with every metadata shape the parser handles (scalars, strings, numeric and string arrays,
    /// nested arrays) and tensors of three types, plus the offsets of its length/count/type fields.
    struct Sample {
        var bytes: [UInt8]
        var u64Fields: [Int]
        var u32Fields: [Int]
        var headerEnd: Int
    }

    static func makeSample() throws -> Sample {
        var writer = try GGUFWriter(alignment: 64)
        writer.set("general.architecture", .string("llama"))
        writer.set("llama.block_count", .uint32(2))
        writer.set("llama.rope.freq_base", .float32(10000))
        writer.set("flag", .bool(true))
        writer.set("big", .int64(-5))
        writer.set("tokenizer.ggml.tokens", .array(["<s>", "a", "b", "ab", "Ġthe"].map(GGUFValue.string)))
        writer.set("tokenizer.ggml.token_type", .array([1, 1, 1, 1, 3].map { GGUFValue.int32($0) }))
        writer.set("tokenizer.ggml.scores", .array([0, -1, -2, -3, -4].map { GGUFValue.float32($0) }))
        writer.set("nested", .array([.array([.uint16(1), .uint16(2)]), .array([])]))
        try writer.addTensor(name: "token_embd.weight", dimensions: [32, 5], type: .q8_0,
                             bytes: [UInt8](repeating: 3, count: 5 * 34))
        try writer.addTensor(name: "blk.0.attn_norm.weight", dimensions: [32], floats: .init(repeating: 1, count: 32))
        try writer.addTensor(name: "output.weight", dimensions: [256, 2], type: .q4_K,
                             bytes: [UInt8](repeating: 9, count: 2 * 144))
        let bytes = try writer.bytes()

        // Locate the fields by their neighbours: every key and name is preceded by its u64 length.
        var u64Fields = [8, 16]
        var u32Fields = [4]
        func offsetAfter(_ text: String) -> Int {
            let needle = Array(text.utf8)
            let start = (0...(bytes.count - needle.count)).first { Array(bytes[$0..<$0 + needle.count]) == needle }!
            u64Fields.append(start - 8)
            return start + needle.count
        }
        for key in writer.metadataKeys {
            let end = offsetAfter(key)
            u32Fields.append(end)
            if case .array = writer.metadata[key] {
                u32Fields.append(end + 4)
                u64Fields.append(end + 8)
            } else if case .string = writer.metadata[key] {
                u64Fields.append(end + 4)
            }
        }
        for tensor in writer.tensors {
            let end = offsetAfter(tensor.name)
            u32Fields.append(end)
            u64Fields += (0..<tensor.dimensions.count).map { end + 4 + 8 * $0 }
            let typeField = end + 4 + 8 * tensor.dimensions.count
            u32Fields.append(typeField)
            u64Fields.append(typeField + 4)
        }
        let headerEnd = try GGUFFile(bytes: bytes).dataOffset
        return Sample(bytes: bytes, u64Fields: u64Fields, u32Fields: u32Fields, headerEnd: headerEnd)
    }

    static let interestingU64: [UInt64] = [
        0, 1, 2, 5, 31, 32, 33, 64, 255, 4096, 1 << 31, 1 << 32 - 1, 1 << 32, 1 << 62, UInt64(Int64.max),
        1 << 63, UInt64.max, UInt64.max - 7, UInt64.max - 63,
    ]
    static let interestingU32: [UInt32] = Array(0...40) + [0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]

    func testDamagedFilesNeverCrash() throws {
        let sample = try Self.makeSample()
        XCTAssertGreaterThan(sample.u64Fields.count, 25)
        var rng = SplitMix64(seed: Self.seed)
        var opened = 0
        var errorKinds: [String: Int] = [:]
        let iterations = 30000

        for iteration in 0..<iterations {
            var bytes = sample.bytes
            switch iteration % 5 {
            case 0:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
            case 1:
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    // Mostly in the header: flips in tensor data can only ever succeed.
                    let limit = Bool.random(using: &rng) ? sample.headerEnd : bytes.count
                    bytes[Int.random(in: 0..<limit, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                }
            case 2, 3:
                let field = sample.u64Fields.randomElement(using: &rng)!
                let value = Bool.random(using: &rng) ? Self.interestingU64.randomElement(using: &rng)! : rng.next()
                write(value, at: field, into: &bytes)
            default:
                let field = sample.u32Fields.randomElement(using: &rng)!
                write(Self.interestingU32.randomElement(using: &rng)!, at: field, into: &bytes)
            }

            do {
                let file = try GGUFFile(bytes: bytes)
                exercise(file)
                opened += 1
            } catch {
                let kind = Mirror(reflecting: error).children.first?.label ?? "\(error)"
                errorKinds[kind, default: 0] += 1
                XCTAssertFalse(error.description.isEmpty, "seed \(Self.seed) iteration \(iteration)")
            }
        }

        print("fuzz: \(iterations) damaged files, \(opened) opened, errors by kind: \(errorKinds.sorted { $0.key < $1.key })")
        XCTAssertGreaterThan(opened, 0)
        XCTAssertGreaterThanOrEqual(errorKinds.count, 10, "fuzzing reached too few error kinds: \(errorKinds)")
    }

    /// Reads everything a successfully opened file offers, so out-of-bounds spans would be touched.
    private func exercise(_ file: GGUFFile) {
        var checksum = 0
        for key in file.metadataKeys {
            checksum &+= file.strings(key)?.count ?? 0
            checksum &+= file.ints(key)?.count ?? 0
            checksum &+= file.floats(key)?.count ?? 0
        }
        checksum &+= file.metadata.count
        for tensor in file.tensors {
            let data = file.bytes(of: tensor)
            checksum &+= Int(data.first!) &+ Int(data.last!)
        }
        checksum &+= file.describe().count
        XCTAssertGreaterThan(checksum, 0)
    }

    private func write<T: FixedWidthInteger>(_ value: T, at offset: Int, into bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + $0.count, with: $0) }
    }
}
