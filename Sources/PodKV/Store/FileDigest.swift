import Foundation

/// Computes sha256 digests of large files.
///
/// Python's `hashlib` uses OpenSSL, which uses the CPU's SHA extensions where present: measured on the
/// development machine it hashes the 491 MB qwen2.5 file in 0.54 s, against 1.8 s for coreutils
/// `sha256sum`. Python is required for pulls anyway, so no extra tool is needed.
struct FileDigest: Sendable {
    /// The Python interpreter, looked up on `PATH`.
    var python: String

    // argv: file path. Reads into one reused 1 MiB buffer, so memory stays flat for any file size.
    private static let script = """
        import hashlib, sys
        digest = hashlib.sha256()
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        with open(sys.argv[1], "rb") as source:
            while count := source.readinto(buffer):
                digest.update(view[:count])
        print(digest.hexdigest())
        """

    /// The lower-case hex sha256 of the file at `url`.
    ///
    /// - Throws: `ModelStoreError.hashFailed` naming the file and Python's error.
    func sha256(of url: URL) throws -> String {
        let result = try Subprocess.run([python, "-c", Self.script, url.path])
        guard result.exitCode == 0, let hex = result.stdoutLines.last, hex.count == 64 else {
            let detail = result.stderrTail.isEmpty ? "exit code \(result.exitCode)" : result.stderrTail
            throw ModelStoreError.hashFailed(path: url.path, detail: detail)
        }
        return hex
    }
}
