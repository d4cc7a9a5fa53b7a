import Foundation

/// A one-way flag set when a request's client goes away; polled by the generation loop (between decode
/// steps) and by a queued job before it starts, so the compute thread is freed early.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }
}
