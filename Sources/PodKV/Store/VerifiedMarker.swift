import Foundation

/// The `<name>.gguf.verified` file written after a successful hash check.
///
/// It records the size and modification time the file had when it was hashed, so a later resolve can
/// trust the file without re-reading hundreds of megabytes; any change to the file (a rewrite, a
/// truncation, a copy over it) changes its size or modification time and forces a fresh hash.
struct VerifiedMarker: Codable, Equatable, Sendable {
    /// File size in bytes when hashed.
    var size: Int64
    /// Modification time when hashed, in microseconds since 1970 (rounded so JSON round trips compare equal).
    var modificationMicros: Int64
    /// The lower-case hex sha256 that was computed.
    var sha256: String

    /// The size and modification time of the file at `url`, or nil if it does not exist or is not a file.
    static func stamp(of url: URL) -> (size: Int64, modificationMicros: Int64)? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let size = (attributes[.size] as? NSNumber)?.int64Value,
            let date = attributes[.modificationDate] as? Date
        else { return nil }
        return (size, Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
    }

    /// Reads a marker; nil if missing or unreadable (which simply means "hash again").
    static func read(from url: URL) -> VerifiedMarker? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(VerifiedMarker.self, from: data)
    }

    /// Writes the marker atomically (temporary file + rename), so readers never see half a marker.
    func write(to url: URL) throws {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw ModelStoreError.fileSystem(step: "writing verified marker", path: url.path, detail: "\(error)")
        }
    }

    /// Whether this marker vouches for `file` holding the bytes whose hash is `expectedSHA256`.
    func matches(file url: URL, expectedSHA256: String) -> Bool {
        guard let stamp = Self.stamp(of: url) else { return false }
        return stamp.size == size && stamp.modificationMicros == modificationMicros && sha256 == expectedSHA256
    }
}
