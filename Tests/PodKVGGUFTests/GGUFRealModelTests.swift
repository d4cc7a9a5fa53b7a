import Foundation
import PodKVKernels
import XCTest

@testable import PodKVGGUF

/// Opens the two downloaded models and checks what is known about them (counts cross-checked with an
/// independent Python reader of the same files).
final class GGUFRealModelTests: XCTestCase {
    func testSmolLM2() throws {
        let file = try GGUFFile(path: try modelPath("smollm2-135m"))
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.string("general.architecture"), "llama")
        XCTAssertEqual(file.int("llama.block_count"), 30)
        XCTAssertEqual(file.int("llama.embedding_length"), 576)
        XCTAssertEqual(file.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(try XCTUnwrap(file.double("llama.rope.freq_base")), 100_000)
        XCTAssertEqual(file.bool("tokenizer.ggml.add_bos_token"), false)
        XCTAssertEqual(file.metadataKeys.count, 33)
        XCTAssertEqual(file.tensors.count, 272)  // 30 layers × 9 + token_embd + output_norm

        let embedding = try XCTUnwrap(file.tensor(named: "token_embd.weight"))
        XCTAssertEqual(embedding.type, .q8_0)
        XCTAssertEqual(embedding.dimensions, [576, 49152])
        for layer in 0..<30 {
            XCTAssertNotNil(file.tensor(named: "blk.\(layer).attn_q.weight"), "layer \(layer)")
        }
        XCTAssertEqual(Set(file.tensors.map(\.type)), [.f32, .q4_1, .q8_0])

        XCTAssertEqual(file.strings("tokenizer.ggml.tokens")?.count, 49152)
        XCTAssertEqual(file.strings("tokenizer.ggml.tokens")?.prefix(3), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        XCTAssertEqual(file.strings("tokenizer.ggml.merges")?.first, "Ġ t")
        XCTAssertEqual(file.strings("tokenizer.ggml.merges")?.count, 48900)
        XCTAssertEqual(file.ints("tokenizer.ggml.token_type")?.prefix(3), [3, 3, 3])
        try checkTensorsLieInTheFile(file)

        // The first q8_0 block of the embedding starts with a finite, non-zero f16 scale.
        let scale = Float(Float16(bitPattern: file.data(of: embedding).loadUnaligned(as: UInt16.self)))
        XCTAssertTrue(scale.isFinite && scale != 0, "\(scale)")
    }

    func testQwenCoder() throws {
        let path = try modelPath("qwen2.5-coder-0.5b")
        let start = ContinuousClock.now
        let file = try GGUFFile(path: path)
        let openTime = ContinuousClock.now - start
        print("opened \(path) (\(file.fileSize) bytes) in \(openTime)")

        XCTAssertEqual(file.string("general.architecture"), "qwen2")
        XCTAssertEqual(file.int("qwen2.block_count"), 24)
        XCTAssertEqual(file.tensors.count, 291)
        let bias = try XCTUnwrap(file.tensor(named: "blk.0.attn_q.bias"))
        XCTAssertEqual(bias.type, .f32)
        XCTAssertEqual(bias.dimensions, [896])
        let biasValues = (0..<896).map { file.data(of: bias).loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
        XCTAssertTrue(biasValues.allSatisfy(\.isFinite))
        XCTAssertTrue(biasValues.contains { $0 != 0 })
        XCTAssertEqual(Set(file.tensors.map(\.type)), [.f32, .q5_0, .q8_0, .q6_K, .q4_K])
        XCTAssertEqual(file.tensor(named: "token_embd.weight")?.type, .q5_0)

        XCTAssertEqual(file.strings("tokenizer.ggml.tokens")?.count, 151_936)
        XCTAssertEqual(file.strings("tokenizer.ggml.merges")?.count, 151_387)
        XCTAssertEqual(file.ints("tokenizer.ggml.token_type")?.count, 151_936)
        XCTAssertEqual(file.int("tokenizer.ggml.eos_token_id"), 151_645)
        try checkTensorsLieInTheFile(file)
    }

    func testDescribeAbbreviatesTheVocabulary() throws {
        let file = try GGUFFile(path: try modelPath("qwen2.5-coder-0.5b"))
        let text = file.describe(maxArrayItems: 3)
        XCTAssertTrue(text.hasPrefix("GGUF v3 '"), text)
        XCTAssertTrue(text.contains("tokenizer.ggml.tokens"))
        XCTAssertTrue(text.contains("arr[str]"))
        XCTAssertTrue(text.contains("[\"!\", \"\\\"\", \"#\", ... (151936 items)]"), text)
        XCTAssertTrue(text.contains("[1, 1, 1, ... (151936 items)]"), text)
        XCTAssertTrue(text.contains("tensors (291, "))
        let biasLine = try XCTUnwrap(text.split(separator: "\n").first { $0.contains("blk.0.attn_q.bias ") })
        XCTAssertEqual(biasLine.split(separator: " ").map(String.init), ["blk.0.attn_q.bias", "f32", "896", "3584"])
        XCTAssertFalse(text.contains("{%- if tools %}\n"), "newlines inside values are escaped")
        XCTAssertLessThan(text.count, 100_000, "long arrays are abbreviated")
    }

    /// Every tensor is aligned, inside the file and the data section, and no two share bytes.
    private func checkTensorsLieInTheFile(_ file: GGUFFile, line: UInt = #line) throws {
        var previousEnd = file.dataOffset
        for tensor in file.tensors.sorted(by: { $0.offset < $1.offset }) {
            XCTAssertGreaterThanOrEqual(tensor.offset, previousEnd, tensor.name, line: line)
            XCTAssertEqual((tensor.offset - file.dataOffset) % file.alignment, 0, tensor.name, line: line)
            XCTAssertEqual(tensor.byteCount, tensor.type.byteCount(elements: tensor.elementCount), line: line)
            previousEnd = tensor.offset + tensor.byteCount
        }
        XCTAssertLessThanOrEqual(previousEnd, file.fileSize, line: line)
    }
}

/// Writer-built files render in the human summary too.
final class GGUFDescribeTests: XCTestCase {
    func testDescribeSmallFile() throws {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("llama.block_count", .uint32(2))
        writer.set("scores", .array((0..<20).map { GGUFValue.float32(Float($0)) }))
        writer.set("nested", .array([.array([.int8(1)]), .array([.int8(2), .int8(3)])]))
        try writer.addTensor(name: "blk.0.ffn_up.weight", dimensions: [32, 4], type: .q8_0,
                             bytes: [UInt8](repeating: 0, count: 4 * 34))
        let text = try GGUFFile(bytes: try writer.bytes()).describe(maxArrayItems: 2)
        let lines = text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertTrue(text.hasPrefix("GGUF v3 in-memory image"))
        XCTAssertTrue(lines.contains("general.architecture str \"llama\""), text)
        XCTAssertTrue(lines.contains("llama.block_count u32 2"), text)
        XCTAssertTrue(lines.contains("scores arr[f32] [0.0, 1.0, ... (20 items)]"), text)
        XCTAssertTrue(lines.contains("nested arr[arr] [[1], [2, 3]]"), text)
        XCTAssertTrue(lines.contains("blk.0.ffn_up.weight q8_0 32 x 4 136"), text)
    }
}
