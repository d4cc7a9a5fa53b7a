/// Hand-written scanner for the GPT-2 pre-tokenizer regex
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// Alternatives are tried in order at each position (leftmost-first, like PCRE / the Rust `regex`
/// crate used by Hugging Face). `range` is treated as the whole text: lookahead never sees past it,
/// which matters when an earlier split (smollm's digit split) cut the text into pieces.
///
/// - Parameters:
///   - text: the scalars and their classes.
///   - range: the piece of `text` to split.
///   - output: receives the matched pieces, in order, covering `range` exactly.
func splitGPT2(_ text: ScalarText, _ range: Range<Int>, into output: inout [Range<Int>]) {
    let values = text.values
    let classes = text.classes
    let end = range.upperBound
    let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20
    var pos = range.lowerBound

    // The class at `i`, or nothing past the end of the piece (so loops stop there).
    @inline(__always) func cls(_ i: Int) -> ScalarClass? { i < end ? classes[i] : nil }

    while pos < end {
        let start = pos
        let c = values[pos]

        // 's|'t|'re|'ve|'m|'ll|'d  (lower case only in the GPT-2 regex)
        if c == apostrophe, pos + 1 < end {
            let n1 = values[pos + 1]
            if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {  // s t m d
                pos += 2
                output.append(start..<pos)
                continue
            }
            if pos + 2 < end {
                let n2 = values[pos + 2]
                if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {  // re ve ll
                    pos += 3
                    output.append(start..<pos)
                    continue
                }
            }
        }

        // The optional leading space of the next three alternatives: decide on the scalar after it.
        let lead = c == space ? 1 : 0
        if let next = cls(pos + lead) {
            if next.contains(.letter) {  //  ?\p{L}+
                pos += lead
                while let k = cls(pos), k.contains(.letter) { pos += 1 }
                output.append(start..<pos)
                continue
            }
            if next.contains(.number) {  //  ?\p{N}+
                pos += lead
                while let k = cls(pos), k.contains(.number) { pos += 1 }
                output.append(start..<pos)
                continue
            }
            if next.isEmpty {  //  ?[^\s\p{L}\p{N}]+
                pos += lead
                while let k = cls(pos), k.isEmpty { pos += 1 }
                output.append(start..<pos)
                continue
            }
        }

        // \s+(?!\S) | \s+ : a whitespace run followed by text gives back its last scalar, so that
        // scalar can lead the next word (" word").
        var runEnd = pos
        while let k = cls(runEnd), k.contains(.whitespace) { runEnd += 1 }
        let runLength = runEnd - pos
        if runLength > 1 && runEnd < end {
            pos = runEnd - 1
        } else if runLength > 0 {
            pos = runEnd
        } else {
            pos += 1  // unreachable: every scalar is letter, number, whitespace or other
        }
        output.append(start..<pos)
    }
}
