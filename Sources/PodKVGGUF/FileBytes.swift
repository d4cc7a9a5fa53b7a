#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of an opened GGUF file: either a read-only private memory mapping of the file or a heap
/// copy of an in-memory buffer. Either way the bytes stay put for the life of this object, which is what
/// makes `GGUFFile.data(of:)` pointers valid without copying tensor data.
final class FileBytes: @unchecked Sendable {
    /// All bytes of the file. Never written through: the mapping is `PROT_READ`.
    let buffer: UnsafeRawBufferPointer
    /// The heap block behind `buffer` for in-memory files; nil for mappings.
    private let allocation: UnsafeMutableRawBufferPointer?

    /// Maps the file at `path` read-only (`MAP_PRIVATE`), so the kernel pages weights in on demand and
    /// several models can share the page cache.
    init(mapping path: String) throws(GGUFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: systemErrorMessage()) }
        // The mapping keeps its own reference to the file, so the descriptor is not needed afterwards.
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, reason: systemErrorMessage()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .cannotOpen(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            // mmap refuses zero lengths; an empty file is simply a truncated GGUF.
            throw .truncated(offset: 0, needed: 4, fileSize: 0, context: "the magic")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .cannotOpen(path: path, reason: "mmap failed: " + systemErrorMessage())
        }
        buffer = UnsafeRawBufferPointer(start: base, count: size)
        allocation = nil
    }

    /// Copies `bytes` into a private heap buffer.
    init(copying bytes: [UInt8]) {
        // Allocate at least one byte so the buffer always has a valid base address.
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
        buffer = UnsafeRawBufferPointer(start: storage.baseAddress, count: bytes.count)
        allocation = storage
    }

    deinit {
        if let allocation {
            allocation.deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: buffer.baseAddress), buffer.count)
        }
    }
}

/// The message for the current `errno`, for errors that name a failed system call.
func systemErrorMessage() -> String {
    String(cString: strerror(errno))
}
