/// The Unicode classes the pre-tokenizer regexes ask about: `\p{L}`, `\p{N}` and `\s`.
///
/// Letter = general category L* (Lu Ll Lt Lm Lo), number = N* (Nd Nl No), whitespace = the
/// White_Space property, which is also what llama.cpp's tables use. A scalar can be in none of them
/// (punctuation, symbols, marks, controls, format characters such as U+200B).
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)

    /// Class of one scalar; ASCII through a table because it is most of the text.
    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        let value = scalar.value
        if value < 128 { return asciiTable[Int(value)] }
        var result: ScalarClass = []
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        default:
            break
        }
        if properties.isWhitespace { result.insert(.whitespace) }
        return result
    }

    private static let asciiTable: [ScalarClass] = (0..<128).map { value in
        switch value {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .whitespace
        default: return []
        }
    }
}

/// A text as Unicode scalars plus the class of each, the input every pre-tokenizer scans.
struct ScalarText {
    /// Scalar values, `[count]`.
    let values: [UInt32]
    /// `ScalarClass.of` for each scalar, `[count]`.
    let classes: [ScalarClass]

    init<S: Sequence>(_ scalars: S) where S.Element == Unicode.Scalar {
        var values: [UInt32] = []
        var classes: [ScalarClass] = []
        values.reserveCapacity(scalars.underestimatedCount)
        classes.reserveCapacity(scalars.underestimatedCount)
        for scalar in scalars {
            values.append(scalar.value)
            classes.append(ScalarClass.of(scalar))
        }
        self.values = values
        self.classes = classes
    }

    var count: Int { values.count }
}
