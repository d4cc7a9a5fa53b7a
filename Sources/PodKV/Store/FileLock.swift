#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation

/// An exclusive advisory lock on a file (`flock(2)`), held until `unlock()` or deinit.
///
/// `flock` locks belong to the open file description, so two stores in one process exclude each other
/// just as two processes do, and the kernel drops the lock if the holder dies: a crashed pull never
/// leaves a stale lock behind. The lock file itself is never deleted, because unlinking it while another
/// process waits on it would let a third process lock a new inode and run concurrently.
final class FileLock {
    private var descriptor: Int32
    let path: String

    /// Opens (creating if needed) `path` and blocks until the exclusive lock is held.
    ///
    /// - Parameter onWait: called once, before blocking, if another holder has the lock.
    /// - Throws: `ModelStoreError.fileSystem` naming the lock file and the system error.
    init(path: String, onWait: () -> Void) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ModelStoreError.fileSystem(step: "opening lock file", path: path, detail: Self.lastError())
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK else {
            let detail = Self.lastError()
            close(descriptor)
            throw ModelStoreError.fileSystem(step: "locking", path: path, detail: detail)
        }
        onWait()
        while flock(descriptor, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let detail = Self.lastError()
            close(descriptor)
            throw ModelStoreError.fileSystem(step: "locking", path: path, detail: detail)
        }
    }

    /// Releases the lock; later calls do nothing.
    func unlock() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { unlock() }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
