/// Hand-written scanner for the Llama-3 family of pre-tokenizer regexes
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|
///     \s*[\r\n]+|\s+(?!\S)|\s+
///
/// with `D = maxDigits`: 3 for Llama 3 (`llama-bpe`), 1 for Qwen2 (whose regex has a plain `\p{N}`).
/// Alternatives are tried in order at each position (leftmost-first). The contraction match is
/// case-insensitive for ASCII letters only, as llama.cpp writes it (`'[sS]|'[tT]|...`).
///
/// - Parameters:
///   - text: the scalars and their classes.
///   - range: the piece of `text` to split; nothing past it is looked at.
///   - maxDigits: how many number scalars one piece may hold.
///   - output: receives the matched pieces, in order, covering `range` exactly.
func splitLlama3(_ text: ScalarText, _ range: Range<Int>, maxDigits: Int, into output: inout [Range<Int>]) {
    let values = text.values
    let classes = text.classes
    let end = range.upperBound
    let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20, cr: UInt32 = 0x0D, lf: UInt32 = 0x0A
    var pos = range.lowerBound

    @inline(__always) func cls(_ i: Int) -> ScalarClass? { i < end ? classes[i] : nil }
    @inline(__always) func isNewline(_ i: Int) -> Bool { i < end && (values[i] == cr || values[i] == lf) }
    // ASCII lower-casing, enough for the contraction letters.
    @inline(__always) func lower(_ v: UInt32) -> UInt32 { (0x41...0x5A).contains(v) ? v + 0x20 : v }

    while pos < end {
        let start = pos
        let c = values[pos]
        let k = classes[pos]

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if c == apostrophe, pos + 1 < end {
            let n1 = lower(values[pos + 1])
            if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {
                pos += 2
                output.append(start..<pos)
                continue
            }
            if pos + 2 < end {
                let n2 = lower(values[pos + 2])
                if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                    pos += 3
                    output.append(start..<pos)
                    continue
                }
            }
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+ : a letter run, optionally led by one scalar that is not a
        // newline, letter or number (a space, punctuation, ...).
        if !(c == cr || c == lf || k.contains(.number)) {
            if k.contains(.letter) || (cls(pos + 1)?.contains(.letter) ?? false) {
                pos += 1
                while let n = cls(pos), n.contains(.letter) { pos += 1 }
                output.append(start..<pos)
                continue
            }
        }

        // \p{N}{1,D}: a number run cut into pieces of at most D scalars, from the left.
        if k.contains(.number) {
            while let n = cls(pos), n.contains(.number), pos - start < maxDigits { pos += 1 }
            output.append(start..<pos)
            continue
        }

        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        let lead = c == space ? 1 : 0
        if let next = cls(pos + lead), next.isEmpty {
            pos += lead
            while let n = cls(pos), n.isEmpty { pos += 1 }
            while isNewline(pos) { pos += 1 }
            output.append(start..<pos)
            continue
        }

        // The remaining alternatives all start with whitespace; measure the run once.
        var runEnd = pos
        var afterLastNewline = -1
        while let n = cls(runEnd), n.contains(.whitespace) {
            if isNewline(runEnd) { afterLastNewline = runEnd + 1 }
            runEnd += 1
        }
        if afterLastNewline >= 0 {
            // \s*[\r\n]+ : backtracking leaves the match ending right after the run's last newline.
            pos = afterLastNewline
        } else if runEnd - pos > 1 && runEnd < end {
            // \s+(?!\S) : give the last whitespace back so it can lead the next word.
            pos = runEnd - 1
        } else if runEnd > pos {
            pos = runEnd  // \s+
        } else {
            pos += 1  // unreachable: every scalar is letter, number, whitespace or other
        }
        output.append(start..<pos)
    }
}
