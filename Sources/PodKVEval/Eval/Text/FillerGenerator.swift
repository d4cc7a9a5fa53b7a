/// The built-in haystack: plain, unremarkable English sentences assembled from small word lists, seeded.
///
/// The sentences describe a quiet town (weather, streets, errands) so that they never contain numbers,
/// keys or anything a needle question could be confused with. They are generated here, not taken from
/// any corpus.
public struct FillerGenerator: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    private static let subjects = [
        "The old baker", "A quiet neighbour", "The river", "Every morning the market", "The small library",
        "A tired gardener", "The village school", "The harbour master", "A young painter", "The long road",
        "The wooden bridge", "A patient teacher", "The afternoon train", "The hill above the town",
        "A travelling musician", "The corner shop", "The cold wind", "A family of ducks", "The bell tower",
        "The evening light",
    ]
    private static let verbs = [
        "looks over", "walks past", "waits beside", "slowly follows", "often visits", "quietly watches",
        "leans against", "turns toward", "passes along", "rests near", "circles around", "hums beside",
    ]
    private static let objects = [
        "the fields of barley", "the stone wall", "the crowded square", "the fishing boats",
        "the garden gate", "the empty benches", "the open windows", "the narrow lanes", "the apple trees",
        "the quiet station", "the painted doors", "the grey rooftops", "the sleeping cats",
        "the muddy path", "the bright kitchen", "the shelves of books",
    ]
    private static let endings = [
        "while the clouds drift by", "before the shops open", "as the tea grows cold",
        "without saying a word", "until the rain begins", "as it has done for years",
        "when the light turns gold", "and nobody seems to mind", "long after supper",
        "while children play outside",
    ]

    /// `count` sentences, each ending with a period; the same seed always gives the same sentences, and
    /// the first k sentences of a longer call equal a shorter call's.
    public func sentences(_ count: Int) -> [String] {
        var r = SeededRandom(seed: seed)
        return (0..<max(0, count)).map { _ in
            let s = "\(r.pick(Self.subjects)) \(r.pick(Self.verbs)) \(r.pick(Self.objects))"
            return r.int(0...2) == 0 ? s + "." : s + " " + r.pick(Self.endings) + "."
        }
    }
}
