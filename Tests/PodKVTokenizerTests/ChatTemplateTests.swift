import XCTest
import PodKVTokenizer

final class ChatTemplateTests: XCTestCase {
    func testRealTemplatesAreChatMLWithTheirDefaultSystemPrompt() throws {
        let smol = ChatTemplate(template: try TestModels.data("smollm2-135m").chatTemplate)
        XCTAssertEqual(smol.format, .chatml)
        XCTAssertFalse(smol.isFallback)
        XCTAssertEqual(smol.defaultSystemPrompt, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")

        let qwen = ChatTemplate(template: try TestModels.data("qwen2.5-coder-0.5b").chatTemplate)
        XCTAssertEqual(qwen.format, .chatml)
        XCTAssertEqual(qwen.defaultSystemPrompt, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    }

    func testChatMLRendering() {
        let template = ChatTemplate(format: .chatml, defaultSystemPrompt: "Be brief.")
        XCTAssertEqual(
            template.render([.user("Hi")], addGenerationPrompt: true),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        // An explicit system message replaces the default.
        XCTAssertEqual(
            template.render([.system("S"), .user("Q"), .assistant("A")], addGenerationPrompt: false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n")
    }

    func testLlama3Rendering() {
        let text = ChatFormat.llama3.render([.system("S"), .user(" Q \n")], addGenerationPrompt: true)
        XCTAssertEqual(text,
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n")
        XCTAssertTrue(ChatFormat.llama3.rendersBOS)
    }

    func testLlama2Rendering() {
        let text = ChatFormat.llama2.render(
            [.system("S"), .user("Q1"), .assistant("A1"), .user("Q2")], addGenerationPrompt: true)
        XCTAssertEqual(text, "<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nQ1 [/INST] A1 </s><s>[INST] Q2 [/INST]")
    }

    func testDetection() {
        XCTAssertEqual(ChatFormat.detect(template: "{{ '<|im_start|>' + m.role }}"), .chatml)
        XCTAssertEqual(ChatFormat.detect(template: "{{ '<|start_header_id|>' + m['role'] }}"), .llama3)
        XCTAssertEqual(ChatFormat.detect(template: "{{ bos_token + '[INST] ' + content }}"), .llama2)
        XCTAssertNil(ChatFormat.detect(template: "{{ messages }}"))

        let missing = ChatTemplate(template: nil)
        XCTAssertEqual(missing.format, .chatml)
        XCTAssertTrue(missing.isFallback)
        XCTAssertNil(missing.defaultSystemPrompt)
        XCTAssertTrue(ChatTemplate(template: "<start_of_turn>{{ m }}").isFallback)
        XCTAssertFalse(ChatTemplate(template: "[INST]").isFallback)
    }

    func testDefaultSystemPromptNeedsALiteral() {
        // Built from an expression: no default.
        XCTAssertNil(ChatTemplate(
            template: "{{ '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}").defaultSystemPrompt)
        // Escapes inside the literal are undone.
        XCTAssertEqual(ChatTemplate(
            template: "{{ '<|im_start|>system\\nYou\\'re kind.\\nReally.<|im_end|>\\n' }}").defaultSystemPrompt,
            "You're kind.\nReally.")
    }

    func testStopIDsAndEncodingOfRenderedPrompt() throws {
        let tokenizer = try TestModels.tokenizer("qwen2.5-coder-0.5b")
        let template = ChatTemplate(template: try TestModels.data("qwen2.5-coder-0.5b").chatTemplate)
        let imEnd = try XCTUnwrap(tokenizer.id(forSpecial: "<|im_end|>"))
        let endOfText = try XCTUnwrap(tokenizer.id(forSpecial: "<|endoftext|>"))
        XCTAssertEqual(template.stopTokenIDs(tokenizer), [imEnd, endOfText])
        XCTAssertTrue(tokenizer.isEndOfGeneration(imEnd))
        XCTAssertTrue(tokenizer.isEndOfGeneration(endOfText))

        let ids = tokenizer.encode(template.render([.user("Hi")], addGenerationPrompt: true), parseSpecial: true)
        let imStart = try XCTUnwrap(tokenizer.id(forSpecial: "<|im_start|>"))
        XCTAssertEqual(ids.first, imStart)
        XCTAssertEqual(ids.filter { $0 == imStart }.count, 3, "system, user and the generation prompt")
        XCTAssertEqual(ids.filter { $0 == imEnd }.count, 2)
    }
}
