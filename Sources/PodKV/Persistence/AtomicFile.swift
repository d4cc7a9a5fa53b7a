import Foundation
#if canImport(Glibc)
import Glibc
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let posixWrite = Darwin.write
#endif

/// Whole-file writes that never leave a partly written file at the destination (KV state, adaptation
/// checkpoints).
public enum AtomicFile {
    /// Writes `data` to a temporary file beside `path`, fsyncs it and renames it over `path`
    /// (rename is atomic within one file system, POSIX).
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let temp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw KVStateError.io("cannot create '\(temp)': \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        let written: Bool = data.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = posixWrite(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        let synced = written && fsync(fd) == 0
        let err = errno
        close(fd)
        guard written, synced else {
            throw KVStateError.io("cannot write '\(temp)': \(String(cString: strerror(err)))")
        }
        guard rename(temp, path) == 0 else {
            throw KVStateError.io("cannot rename '\(temp)' to '\(path)': \(String(cString: strerror(errno)))")
        }
        ok = true
    }
}
