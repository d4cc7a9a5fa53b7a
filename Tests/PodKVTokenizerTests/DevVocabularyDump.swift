#if PODKV_GGUF_PENDING
import Foundation
import PodKVTokenizer

/// Development only, until the GGUF reader is merged: reads the tokenizer keys dumped to
/// /tmp/tokdump/<name>.json by the gguf Python package. Deleted once `TokenizerData(gguf:)` works.
enum DevVocabularyDump {
    static func load(_ name: String) throws -> TokenizerData {
        let url = URL(fileURLWithPath: "/tmp/tokdump/\(name).json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func int(_ key: String) -> Int? { (object[key] as? NSNumber)?.intValue }
        func bool(_ key: String) -> Bool? { (object[key] as? NSNumber)?.boolValue }
        return TokenizerData(
            model: object["tokenizer.ggml.model"] as! String,
            preTokenizer: object["tokenizer.ggml.pre"] as? String,
            tokens: object["tokenizer.ggml.tokens"] as! [String],
            tokenTypes: (object["tokenizer.ggml.token_type"] as? [NSNumber])?.map { TokenType(rawValue: $0.intValue)! },
            merges: object["tokenizer.ggml.merges"] as? [String],
            scores: (object["tokenizer.ggml.scores"] as? [NSNumber])?.map { $0.floatValue },
            bosID: int("tokenizer.ggml.bos_token_id"),
            eosID: int("tokenizer.ggml.eos_token_id"),
            unknownID: int("tokenizer.ggml.unknown_token_id"),
            paddingID: int("tokenizer.ggml.padding_token_id"),
            addBOS: bool("tokenizer.ggml.add_bos_token"),
            addSpacePrefix: bool("tokenizer.ggml.add_space_prefix"),
            chatTemplate: object["tokenizer.chat_template"] as? String)
    }
}
#endif
