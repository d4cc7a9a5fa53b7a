/// A long synthetic document with one fact worth asking about: a research station's logbook, entry after
/// entry of routine observations, with a single entry recording a code. Generated from a seed, so every
/// run can use a different document, code and position, and nothing is fitted to one example.
public struct LogbookDocument: Sendable {
    public let text: String
    public let question: String
    /// The expected answer (the access code), which a correct reply contains.
    public let answer: String
    /// Where the fact sits, as a fraction of the document (0 = start, 1 = end).
    public let depth: Double

    /// Builds a document of about `words` words with the fact at `depth` (0...1).
    public init(words: Int = 2600, depth: Double = 0.3, seed: UInt64 = 7) {
        var rng = LogbookRandom(seed)
        let stations = ["Halden", "Norvik", "Tamsin", "Orlo", "Braska", "Quill", "Vesper", "Ardent"]
        let people = ["Ines", "Marek", "Tove", "Julian", "Priya", "Oskar", "Lena", "Rafael", "Mina", "Dorian"]
        let weather = ["clear skies", "light drizzle", "a steady north wind", "thick fog until noon", "sleet in the afternoon",
                       "calm seas", "low cloud", "a brief hail shower", "bright sun and cold air", "gusts from the west"]
        let tasks = ["recalibrated the wind gauge", "logged seabird counts", "replaced a fuse in the radio room",
                     "checked the water tanks", "cleared snow from the solar panels", "measured ice thickness at the jetty",
                     "sorted the supply crates", "tested the backup generator", "photographed the northern ridge",
                     "repaired the weather balloon tether", "inventoried the medical kit", "cleaned the telescope mirror"]
        let station = stations[rng.below(stations.count)]
        let keeper = people[rng.below(people.count)]
        let code = String(10_000 + rng.below(90_000))
        let cabinet = ["blue", "green", "grey", "red"][rng.below(4)]
        answer = code
        question = "According to the logbook, what is the access code of the \(cabinet) cabinet? Answer with the code only."
        var entries: [String] = []
        var count = 0
        var day = 1
        while count < words {
            let who = people[rng.below(people.count)]
            let entry = "Day \(day). \(weather[rng.below(weather.count)].capitalizedFirst) at \(station) station. "
                + "\(who) \(tasks[rng.below(tasks.count)]) and \(tasks[rng.below(tasks.count)]). "
                + "Temperature \(rng.below(15) - 9) degrees, pressure \(980 + rng.below(45)) hectopascals. "
                + "Nothing else of note was recorded."
            entries.append(entry)
            count += entry.split(separator: " ").count
            day += 1
        }
        let slot = min(entries.count - 1, max(0, Int(Double(entries.count) * depth)))
        self.depth = Double(slot) / Double(max(1, entries.count))
        entries.insert("Day \(slot + 1), addendum. \(keeper) changed the lock of the \(cabinet) cabinet; the new access code of the \(cabinet) cabinet is \(code).", at: slot)
        text = "Logbook of \(station) research station.\n\n" + entries.joined(separator: "\n")
    }
}

/// SplitMix64 for document generation.
struct LogbookRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
