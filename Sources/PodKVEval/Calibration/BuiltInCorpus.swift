import Foundation

/// The fallback calibration text used when `--data` is not given: about twelve thousand words of
/// varied English prose, generated here from sentence patterns and per-topic vocabularies with a fixed
/// seed (the same text on every machine, no data file to ship).
///
/// Each document keeps a small cast of names, places and things that recur across its paragraphs, so
/// attention has distant tokens worth looking back at, as in real long texts. The Paul Graham essays in
/// the shared data are test data and deliberately not used here.
public enum BuiltInCorpus {
    /// The documents, in a fixed order.
    public static let documents: [CorpusDocument] = topics.enumerated().map { i, topic in
        CorpusDocument(source: "built-in/\(topic.title)", text: write(topic, seed: UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15))
    }

    struct Topic {
        var title: String
        var people: [String]
        var places: [String]
        var things: [String]
        var deeds: [String]       // past-tense verb phrases taking an object
        var qualities: [String]   // adjectives
        var opening: String
    }

    static let topics: [Topic] = [
        Topic(title: "the harbour town",
              people: ["Marta", "the harbourmaster", "old Tomas", "the ferry captain", "Ines", "a fisherman named Rui"],
              places: ["the harbour", "the fish market", "the lighthouse", "the customs house", "the breakwater", "the chapel on the hill"],
              things: ["nets", "the tide tables", "a brass compass", "the morning catch", "a cracked oar", "the signal lamp", "salt barrels"],
              deeds: ["mended", "counted", "carried", "repainted", "inspected", "sold", "lost", "borrowed"],
              qualities: ["weathered", "quiet", "crowded", "grey", "bright", "narrow", "salty"],
              opening: "The town grew up around its harbour, and for three centuries the harbour decided what the town would be."),
        Topic(title: "the clockmaker",
              people: ["Henrik", "his apprentice Lena", "a visiting merchant", "the mayor", "Widow Aldous", "the bell ringer"],
              places: ["the workshop", "the town square", "the tower", "the back room", "the guild hall", "the river bridge"],
              things: ["escapements", "a pendulum", "the mainspring", "tiny brass gears", "the ledger", "a jeweller's loupe", "the tower clock"],
              deeds: ["adjusted", "polished", "dismantled", "wound", "repaired", "measured", "drew", "ordered"],
              qualities: ["precise", "patient", "dusty", "delicate", "stubborn", "old", "careful"],
              opening: "Nobody in the valley could remember a time before the clockmaker, though he insisted he had arrived as a young man."),
        Topic(title: "a field season",
              people: ["Dr. Okafor", "the graduate student Priya", "our driver Samuel", "the village elder", "two volunteers", "the site photographer"],
              places: ["the trench", "the base camp", "the dry riverbed", "the ridge", "the storage tent", "the museum in the capital"],
              things: ["potsherds", "the survey grid", "a bone needle", "soil samples", "the field notebook", "a broken figurine", "charcoal fragments"],
              deeds: ["recorded", "sifted", "labelled", "photographed", "uncovered", "catalogued", "dated", "packed"],
              qualities: ["dry", "scorching", "unexpected", "fragile", "ancient", "promising", "faint"],
              opening: "We reached the site in the second week of June, later than planned, after the rains had washed out the only road."),
        Topic(title: "kitchen notes",
              people: ["the head cook", "Amélie", "a new line cook", "the baker", "my grandmother", "the dishwasher, Kofi"],
              places: ["the kitchen", "the walk-in pantry", "the garden behind the restaurant", "the market stalls", "the cellar", "the dining room"],
              things: ["sourdough starter", "a copper pan", "the stock pot", "fresh thyme", "the recipe cards", "a sharp knife", "smoked butter"],
              deeds: ["tasted", "seasoned", "stirred", "chopped", "reduced", "prepared", "rescued", "burned"],
              qualities: ["fragrant", "busy", "warm", "bitter", "simple", "rich", "crisp"],
              opening: "Every kitchen keeps two sets of records: the written recipes, and the habits nobody ever writes down."),
        Topic(title: "the bridge",
              people: ["the chief engineer", "Councillor Breck", "the stonemasons", "a surveyor named Ada", "the ferrymen", "the newspaper editor"],
              places: ["the river", "the east bank", "the quarry", "the council chamber", "the cofferdam", "the toll house"],
              things: ["granite blocks", "the iron chains", "the design drawings", "a scale model", "the budget", "the foundation piles", "the first cart"],
              deeds: ["approved", "tested", "hauled", "rejected", "reinforced", "surveyed", "financed", "opened"],
              qualities: ["ambitious", "costly", "sturdy", "controversial", "muddy", "elegant", "late"],
              opening: "For most of its history the city had two halves that spoke to each other only by boat."),
        Topic(title: "a winter journal",
              people: ["my sister", "the neighbour, Mr. Havel", "the postman", "our dog Biscuit", "the snowplough driver", "a stranger at the station"],
              places: ["the cabin", "the frozen lake", "the woodshed", "the railway station", "the pine forest", "the village shop"],
              things: ["firewood", "a wool blanket", "the kerosene lamp", "letters", "snowshoes", "the radio", "a tin of coffee"],
              deeds: ["split", "stacked", "wrote", "found", "fixed", "shared", "dried", "waited for"],
              qualities: ["cold", "still", "blue", "heavy", "silent", "long", "comforting"],
              opening: "The first snow came early that year, and it did not leave until the middle of April."),
    ]

    /// Sentence patterns; {A}/{B} people, {P} place, {N}/{M} things, {V} a deed, {Q}/{R} qualities,
    /// {K} a number, {T} a time phrase, {Y} a year.
    static let patterns: [String] = [
        "{A} {V} {N} near {P} before anyone else was awake.",
        "In those days {P} was {Q}, and {N} were never far from anyone's mind.",
        "When {B} asked about {N}, {A} only pointed toward {P}.",
        "It took {K} days to understand why {M} mattered so much to {A}.",
        "{T}, {A} and {B} {V} {M} together, arguing the whole time.",
        "Most people remember {P} as {Q}, but {A} described it as {R}.",
        "There is a note in the margin, written by {A}, that says only: check {N} again.",
        "{B} kept a list of everything that went wrong at {P}; {N} appeared on it {K} times.",
        "Nothing about {M} was {Q}, whatever the stories later claimed.",
        "{A} once said that {N} were the only honest thing at {P}.",
        "By {Y} the old arrangement had changed, and {B} {V} {M} without asking permission.",
        "If you walk from {P} to {P2} today you still pass the place where {A} {V} {N}.",
        "The {Q} light made {P} look smaller than it was.",
        "{A} wrote to {B} that {M} had been {V} at last, and that the cost was {K} times the estimate.",
        "Some of the younger people thought {A} cared more about {N} than about anyone at {P}.",
        "{T}, a {Q} wind came in, and work at {P} stopped for the day.",
        "The records from {Y} mention {M} but say nothing about {B}.",
        "{B} laughed when {A} {V} {N} a second time, but did not offer to help.",
        "Everyone agreed that {P} had never been so {Q}, and that {A} deserved some of the credit.",
        "It is hard to explain now how much depended on {M}.",
        "{A} kept {N} in a box under the table, and nobody was allowed to touch them.",
        "After {K} years, {B} returned to {P} and found {M} exactly where it had been left.",
        "That was the {Q} season, the one people still talk about at {P}.",
        "{A} {V} {M}, then sat down and said nothing for a long time.",
        "Why {B} stayed at {P} for so long is a question nobody has answered well.",
        "The difference between a {Q} year and a {R} one was usually {N}.",
    ]

    static let times = ["That spring", "Early one morning", "Late in the autumn", "On the third evening", "Every Sunday",
                        "Before the war", "During the long drought", "The following winter", "At midday", "Some weeks later"]

    /// Writes one document: a title line, the opening sentence, then 24 paragraphs of 4-8 sentences.
    static func write(_ topic: Topic, seed: UInt64) -> String {
        var rng = Generator(state: seed)
        var paragraphs = [topic.title.prefix(1).uppercased() + topic.title.dropFirst(), topic.opening]
        for _ in 0..<24 {
            var sentences: [String] = []
            for _ in 0..<(4 + rng.below(5)) {
                sentences.append(fill(patterns[rng.below(patterns.count)], topic: topic, rng: &rng))
            }
            paragraphs.append(sentences.joined(separator: " "))
        }
        return paragraphs.joined(separator: "\n\n") + "\n"
    }

    static func fill(_ pattern: String, topic t: Topic, rng: inout Generator) -> String {
        func pick(_ xs: [String]) -> String { xs[rng.below(xs.count)] }
        let a = pick(t.people)
        var b = pick(t.people)
        if b == a { b = t.people[(t.people.firstIndex(of: a)! + 1) % t.people.count] }
        let p = pick(t.places)
        var p2 = pick(t.places)
        if p2 == p { p2 = t.places[(t.places.firstIndex(of: p)! + 1) % t.places.count] }
        let replacements: [(String, String)] = [
            ("{A}", a), ("{B}", b), ("{P2}", p2), ("{P}", p), ("{N}", pick(t.things)), ("{M}", pick(t.things)),
            ("{V}", pick(t.deeds)), ("{Q}", pick(t.qualities)), ("{R}", pick(t.qualities)),
            ("{K}", String(2 + rng.below(40))), ("{T}", pick(times)), ("{Y}", String(1790 + rng.below(200))),
        ]
        var s = pattern
        for (key, value) in replacements { s = s.replacingOccurrences(of: key, with: value) }
        // Sentences may start with a lower-case name ("the harbourmaster"): capitalise the first letter.
        return s.prefix(1).uppercased() + s.dropFirst()
    }

    /// SplitMix64, enough for picking words reproducibly.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }
}
