import Foundation
import XCTest

@testable import PodKV

/// Helpers shared by the store tests: temporary homes, independent hashing, and zip/wheel building.
enum StoreTestSupport {
    /// A fresh, empty directory under the system temporary directory; the caller removes it.
    static func makeTemporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("podkv-\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The sha256 of a file computed with coreutils `sha256sum`, independently of the store's own hashing.
    static func sha256sum(_ url: URL) throws -> String {
        let output = try run(["sha256sum", url.path])
        return String(output.prefix(64))
    }

    /// Deterministic pseudo-random bytes, so fixtures are reproducible.
    static func bytes(count: Int, seed: UInt64) -> Data {
        var generator = Xoshiro256StarStar(seed: seed)
        var data = Data(count: count)
        for index in 0..<count { data[index] = UInt8(truncatingIfNeeded: generator.next() >> 56) }
        return data
    }

    /// Writes a zip archive at `url` holding `members` (name -> bytes), built by Python's `zipfile` so the
    /// archive is made by a different implementation than the one that reads it.
    static func writeZip(_ members: [(name: String, data: Data)], to url: URL) throws {
        let staging = try makeTemporaryDirectory("zip")
        defer { try? FileManager.default.removeItem(at: staging) }
        var arguments = [
            "python3", "-c",
            """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as archive:
                for name, source in zip(sys.argv[2::2], sys.argv[3::2]):
                    archive.write(source, name)
            """,
            url.path,
        ]
        for (index, member) in members.enumerated() {
            let source = staging.appendingPathComponent("member-\(index)")
            try member.data.write(to: source)
            arguments += [member.name, source.path]
        }
        _ = try run(arguments)
    }

    /// Writes an installable-looking wheel (with the `.dist-info` files pip checks) into `folder`.
    @discardableResult
    static func writeWheel(package: String, version: String, members: [(name: String, data: Data)], in folder: URL)
        throws -> URL
    {
        let distribution = package.replacingOccurrences(of: "-", with: "_")
        let info = "\(distribution)-\(version).dist-info"
        let metadata = "Metadata-Version: 2.1\nName: \(package)\nVersion: \(version)\n"
        let wheelInfo = "Wheel-Version: 1.0\nGenerator: podkv-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        let url = folder.appendingPathComponent("\(distribution)-\(version)-py3-none-any.whl")
        try writeZip(
            members + [
                ("\(info)/METADATA", Data(metadata.utf8)), ("\(info)/WHEEL", Data(wheelInfo.utf8)),
                ("\(info)/RECORD", Data()),
            ], to: url)
        return url
    }

    /// Runs a tool from `PATH`, failing the test with its stderr if it exits with an error.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(
                domain: "StoreTestSupport", code: Int(process.terminationStatus),
                userInfo: [NSLocalizedDescriptionKey: String(decoding: errorData, as: UTF8.self)])
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A wheel source for offline tests: builds each requested wheel on the spot from in-memory members.
final class FakeWheelFetcher: WheelFetcher, @unchecked Sendable {
    /// What the fake index serves for one requirement.
    enum Wheel {
        /// A zip with these members.
        case members([(name: String, data: Data)])
        /// A file of these bytes named like a wheel (to simulate a corrupt download).
        case rawBytes(Data)
    }

    private let wheels: [String: Wheel]
    private let delay: TimeInterval
    private let lock = NSLock()
    private var requested: [String] = []

    /// `wheels` maps `package==version` to its content; `delay` slows each fetch (for concurrency tests).
    init(wheels: [String: Wheel], delay: TimeInterval = 0) {
        self.wheels = wheels
        self.delay = delay
    }

    /// Every requirement fetched so far, in order.
    var fetches: [String] { lock.withLock { requested } }

    func fetchWheel(_ part: KnownModel.WheelPart, into directory: URL, progress: ((String) -> Void)?) throws
        -> URL
    {
        lock.withLock { requested.append(part.requirement) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        guard let wheel = wheels[part.requirement] else {
            throw ModelStoreError.fetchFailed(
                requirement: part.requirement, exitCode: 1, stderrTail: "not in the fake index")
        }
        let url = directory.appendingPathComponent(
            "\(part.package.replacingOccurrences(of: "-", with: "_"))-\(part.version)-py3-none-any.whl")
        switch wheel {
        case .members(let members): try StoreTestSupport.writeZip(members, to: url)
        case .rawBytes(let data): try data.write(to: url)
        }
        progress?("fake index: saved \(url.lastPathComponent)")
        return url
    }
}

/// A tiny two-wheel model in a temporary home, mirroring how qwen2.5-coder-0.5b is split across wheels.
struct TinyModelFixture {
    let home: URL
    let model: KnownModel
    let parts: [Data]
    let expectedSHA256: String

    var assembled: Data { parts.reduce(Data(), +) }

    init() throws {
        home = try StoreTestSupport.makeTemporaryDirectory("home")
        parts = [StoreTestSupport.bytes(count: 200_003, seed: 1), StoreTestSupport.bytes(count: 54_321, seed: 2)]
        let joined = home.appendingPathComponent("expected.bin")
        try parts.reduce(Data(), +).write(to: joined)
        expectedSHA256 = try StoreTestSupport.sha256sum(joined)
        try FileManager.default.removeItem(at: joined)
        model = Self.model(size: Int64(parts[0].count + parts[1].count), sha256: expectedSHA256)
    }

    /// The registry entry; `size` and `sha256` can be altered to provoke verification failures.
    static func model(size: Int64, sha256: String) -> KnownModel {
        KnownModel(
            name: "tiny-test", description: "two-part test model",
            parts: [
                .init(package: "tiny-part1", version: "1.0", member: "tiny_part1/data/part01.bin"),
                .init(package: "tiny-part2", version: "1.0", member: "tiny_part2/data/part02.bin"),
            ],
            size: size, sha256: sha256)
    }

    /// The fake index serving both wheels correctly.
    func fetcher(delay: TimeInterval = 0) -> FakeWheelFetcher {
        FakeWheelFetcher(
            wheels: [
                "tiny-part1==1.0": .members([("tiny_part1/data/part01.bin", parts[0])]),
                "tiny-part2==1.0": .members([("tiny_part2/data/part02.bin", parts[1])]),
            ], delay: delay)
    }

    func store(model: KnownModel? = nil, fetcher: any WheelFetcher) -> ModelStore {
        ModelStore(home: home, models: [model ?? self.model], fetcher: fetcher)
    }

    var finalURL: URL { home.appendingPathComponent("models/tiny-test.gguf") }
    var partialURL: URL { home.appendingPathComponent("models/tiny-test.gguf.partial") }
    var markerURL: URL { home.appendingPathComponent("models/tiny-test.gguf.verified") }

    func remove() { try? FileManager.default.removeItem(at: home) }
}

/// Collects progress lines from a store call (thread-safe, for the concurrency test).
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []

    var lines: [String] { lock.withLock { storage } }
    func record(_ line: String) { lock.withLock { storage.append(line) } }
    func contains(_ text: String) -> Bool { lines.contains { $0.contains(text) } }
}
