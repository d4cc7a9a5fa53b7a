import Foundation

/// Thread-safe memo of word -> token ids, so repeated words (most of any text) skip merging.
///
/// Bounded: when it reaches `limit` entries it is emptied rather than tracking recency, which
/// keeps lookups cheap; natural text refills it with its frequent words quickly.
final class WordCache: @unchecked Sendable {
    private var entries: [[UInt8]: [Int32]] = [:]
    private let lock = NSLock()
    private let limit: Int

    init(limit: Int = 65_536) {
        self.limit = limit
    }

    func get(_ word: [UInt8]) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[word]
    }

    func set(_ word: [UInt8], _ ids: [Int32]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
        entries[word] = ids
    }
}
