/// GPT-2's reversible byte <-> character mapping used by byte-level BPE vocabularies.
///
/// Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) stand for themselves; the other 68
/// bytes (controls, space, 0x7F-0xA0, 0xAD) are given the characters U+0100, U+0101, ... in byte
/// order. So a space is `Ġ` (U+0120) and a newline `Ċ` (U+010A). From OpenAI's `bytes_to_unicode`.
enum ByteLevelEncoding {
    /// The character standing for each byte, `[256]`.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var nextSubstitute: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(nextSubstitute)!
                nextSubstitute += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, or nil for characters outside the mapping.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 256 {
            let isSelf = (0x21...0x7E).contains(value) || (0xA1...0xAC).contains(value) || (0xAE...0xFF).contains(value)
            return isSelf ? UInt8(value) : nil
        }
        return substituteToByte[value]
    }

    private static let substituteToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for byte in 0..<256 where scalarForByte[byte].value >= 256 {
            map[scalarForByte[byte].value] = UInt8(byte)
        }
        return map
    }()

    /// Maps text bytes to the vocabulary's character form, e.g. " the" -> "Ġthe".
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(scalarForByte[Int(byte)]) }
        return String(scalars)
    }

    /// Maps a vocabulary entry back to the bytes it stands for, e.g. "Ġthe" -> " the". Characters
    /// outside the mapping (never in a well-formed vocabulary) are kept as their UTF-8.
    static func decode(_ tokenText: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokenText.utf8.count)
        for scalar in tokenText.unicodeScalars {
            if let byte = byte(for: scalar) {
                bytes.append(byte)
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }
}
