/// Turns generated ids into text one id at a time, returning only complete UTF-8.
///
/// A byte-level token can end in the middle of a multi-byte character (an emoji is often two or
/// three tokens), so the bytes of an unfinished character are held back until the tokens that
/// complete it arrive. Pieces are decoded as continuations: no leading space is stripped, which is
/// right for generated text following a prompt.
public struct StreamingDecoder: Sendable {
    private let tokenizer: any Tokenizer
    /// Bytes received but not yet returned, at most one incomplete character (`<= 3` bytes) after
    /// each `append`.
    private var pending: [UInt8] = []

    /// - Parameter tokenizer: the vocabulary the ids come from.
    public init(tokenizer: any Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Adds one id and returns the text it completes (possibly empty).
    public mutating func append(_ id: Int) -> String {
        pending.append(contentsOf: tokenizer.pieceBytes(id))
        let complete = completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Returns what is still held back (an unfinished character becomes U+FFFD) and starts over.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix of `bytes` that does not end inside an unfinished character.
    /// Only the last lead byte matters: earlier sequences are either complete or invalid, and
    /// invalid bytes are released at once (as U+FFFD) rather than held forever.
    private func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let lowest = max(0, bytes.count - 4)
        var i = bytes.count - 1
        while i >= lowest {
            let byte = bytes[i]
            if byte & 0xC0 != 0x80 {  // a lead (or ASCII) byte
                let needed = utf8Length(leadByte: byte)
                return bytes.count - i < needed ? i : bytes.count
            }
            i -= 1
        }
        return bytes.count
    }
}
