/// Cuts generated text at the first stop string, without ever emitting part of one.
///
/// Text arrives in chunks (one decoded token at a time), and a stop string can straddle chunks, so the
/// matcher holds back the longest tail of the text that could still grow into a stop string and releases
/// it once it cannot. Matching is on Unicode scalars, so it is exact and independent of how a token
/// boundary splits a grapheme cluster.
public struct StopMatcher: Sendable {
    /// The result of feeding one chunk.
    public struct Output: Sendable, Equatable {
        /// Text that is final and can be shown now.
        public var text: String
        /// Whether a stop string was found; generation should end, and the stop string is not in `text`.
        public var stopped: Bool

        /// Creates an output value.
        public init(text: String, stopped: Bool) {
            self.text = text
            self.stopped = stopped
        }
    }

    /// The stop strings, as given.
    public let stopStrings: [String]
    private let patterns: [[Unicode.Scalar]]
    /// Text received but not yet emitted: always a possible beginning of some stop string.
    private var held: [Unicode.Scalar] = []
    /// Set once a stop string has been seen; later input is ignored.
    public private(set) var isStopped = false

    /// Creates a matcher for `stopStrings` (an empty list never stops).
    ///
    /// - Throws: `StopMatcherError.emptyStopString` if one of them is empty, since it would match at once.
    public init(stopStrings: [String]) throws {
        if let index = stopStrings.firstIndex(where: \.isEmpty) {
            throw StopMatcherError.emptyStopString(index: index)
        }
        self.stopStrings = stopStrings
        self.patterns = stopStrings.map { Array($0.unicodeScalars) }
    }

    /// Feeds the next chunk of decoded text and returns what is safe to emit.
    ///
    /// If a stop string is completed, `text` holds everything before its earliest occurrence and
    /// `stopped` is true; every later call returns empty text and `stopped` true.
    public mutating func feed(_ chunk: String) -> Output {
        guard !isStopped else { return Output(text: "", stopped: true) }
        held.append(contentsOf: chunk.unicodeScalars)
        if let start = earliestMatch() {
            let text = Self.string(held[..<start])
            held.removeAll()
            isStopped = true
            return Output(text: text, stopped: true)
        }
        let keep = longestPendingPrefix()
        let text = Self.string(held[..<(held.count - keep)])
        held.removeFirst(held.count - keep)
        return Output(text: text, stopped: false)
    }

    /// Ends the stream: returns the held-back text, which can no longer become a stop string.
    public mutating func finish() -> String {
        let text = Self.string(held[...])
        held.removeAll()
        return text
    }

    /// The start of the earliest complete stop string in `held`, if any.
    private func earliestMatch() -> Int? {
        var earliest: Int?
        for pattern in patterns where pattern.count <= held.count {
            let lastStart = held.count - pattern.count
            var start = 0
            while start <= lastStart, start < (earliest ?? Int.max) {
                if held[start..<(start + pattern.count)].elementsEqual(pattern) {
                    earliest = start
                    break
                }
                start += 1
            }
        }
        return earliest
    }

    /// The length of the longest suffix of `held` that is a proper prefix of some stop string.
    private func longestPendingPrefix() -> Int {
        var longest = 0
        for pattern in patterns {
            var length = min(pattern.count - 1, held.count)
            while length > longest {
                if held[(held.count - length)...].elementsEqual(pattern[..<length]) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}

/// A stop string list that cannot be used.
public enum StopMatcherError: Error, Equatable, CustomStringConvertible {
    /// The stop string at `index` is empty.
    case emptyStopString(index: Int)

    /// A message naming the bad value and what is accepted.
    public var description: String {
        switch self {
        case .emptyStopString(let index):
            return "stop string #\(index + 1) is empty; an empty stop string would stop before any output"
        }
    }
}
