import Foundation
import PodKV
import XCTest
@testable import PodKVEval

/// Heatmap PNG, the `--report` table, and the calibration corpus.
final class CalibrationOutputTests: XCTestCase {
    static let fingerprint = ModelFingerprint(architecture: "llama", layerCount: 4, headCount: 4, kvHeadCount: 2, headDim: 16, digest: "abc")
    static let similarity: [[[Double]]] = [
        [[1, 0.9, 0.2, 0.1], [0.9, 1, 0.3, 0.2], [0.2, 0.3, 1, 0.7], [0.1, 0.2, 0.7, 1]],
        [[1, 0.1, 0.1, 0.1], [0.1, 1, 0.6, 0.6], [0.1, 0.6, 1, 0.6], [0.1, 0.6, 0.6, 1]],
    ]

    func plan() throws -> PoDPlan {
        try PlanBuilder.build(similarity: Self.similarity, model: Self.fingerprint, modelContextLength: 4096,
                              settings: CalibrationSettings(samples: 1, tokens: 2048, queries: 16, sink: 16, window: 1024)).plan
    }

    func testHeatmapIsAValidPNGOfTheExpectedSize() throws {
        let plan = try plan()
        XCTAssertEqual(plan.owners, [[0, 0, 2, 2], [0, 1, 1, 1]])
        let canvas = try SimilarityHeatmap.render(plan: plan)
        // 4 layers: 16-pixel cells, 64-pixel matrices; 3 panels (mean + 2 heads) of 30 + 64 + 24 pixels,
        // an 80-pixel colour scale, 10-pixel margin; header 34 + panel 22 + 64 + 30, margin 10.
        XCTAssertEqual(canvas.width, 3 * 118 + 80 + 10)
        XCTAssertEqual(canvas.height, 34 + 116 + 10)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-heatmap-\(UUID()).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try canvas.write(to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(Array(bytes[12..<16]), Array("IHDR".utf8))
        func be32(_ i: Int) -> Int { bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(be32(16), canvas.width)
        XCTAssertEqual(be32(20), canvas.height)
        // Head 0's block 0-1 is outlined in red at its top-left corner; the mean panel has no outline there.
        let x0 = 10 + 118 + 30, y0 = 34 + 22
        XCTAssertEqual(pixel(canvas, x0, y0), SimilarityHeatmap.outline)
        XCTAssertEqual(pixel(canvas, 10 + 30, y0), RGB.viridisLike(1))
        // Cell (row 0, column 2) of the mean panel: mean of 0.2 and 0.1.
        XCTAssertEqual(pixel(canvas, 10 + 30 + 2 * 16 + 8, y0 + 8), RGB.viridisLike(0.15))
    }

    func pixel(_ c: Canvas, _ x: Int, _ y: Int) -> RGB {
        let i = (y * c.width + x) * 3
        return RGB(c.pixels[i], c.pixels[i + 1], c.pixels[i + 2])
    }

    func testHeatmapNeedsSimilarity() throws {
        XCTAssertThrowsError(try SimilarityHeatmap.render(plan: try PoDPlan.uniform(groupSize: 2, model: Self.fingerprint)))
    }

    func testReportListsBlocksAndSavings() throws {
        let text = PlanReport.render(try plan())
        XCTAssertTrue(text.contains("0        2       0-1 (0.90) | 2-3 (0.70)"), text)
        XCTAssertTrue(text.contains("1        2       0 | 1-3 (0.60)"), text)
        XCTAssertTrue(text.contains("delta=0.5"), text)
        // 4096 tokens, one of two layers shares keys per head: ½ · ½ · (4096 - 1040)/4096 = 18.65%.
        XCTAssertTrue(text.contains("4096     18.7%"), text)
        XCTAssertTrue(text.contains("2048     12.3%"), text)
        XCTAssertTrue(PlanReport.render(try PoDPlan.uniform(groupSize: 2, model: Self.fingerprint)).contains("not recorded"))
    }

    func testBuiltInCorpusIsLongDeterministicProse() {
        let docs = BuiltInCorpus.documents
        XCTAssertGreaterThanOrEqual(docs.count, 5)
        let words = docs.reduce(0) { $0 + $1.text.split(whereSeparator: \.isWhitespace).count }
        XCTAssertGreaterThan(words, 8000)
        XCTAssertEqual(docs.map(\.text), BuiltInCorpus.documents.map(\.text))
        XCTAssertFalse(docs[0].text.contains("{"), "every slot is filled")
        XCTAssertEqual(Set(docs.map(\.text)).count, docs.count)
    }

    func testSamplesAreExactWindowsWithBOS() throws {
        let docs = [CorpusDocument(source: "a", text: "abcdefgh"), CorpusDocument(source: "b", text: "ijkl")]
        let encode = { (s: String) in s.unicodeScalars.map { Int($0.value) } }
        let samples = try CalibrationSamples.make(documents: docs, count: 2, tokens: 6, bos: 1, encode: encode)
        XCTAssertEqual(samples, [[1] + encode("abcde"), [1] + encode("fgh\n\n")])
        let noBOS = try CalibrationSamples.make(documents: docs, count: 1, tokens: 3, bos: nil, encode: encode)
        XCTAssertEqual(noBOS, [encode("abc")])
        XCTAssertThrowsError(try CalibrationSamples.make(documents: docs, count: 3, tokens: 6, bos: 1, encode: encode)) { error in
            XCTAssertTrue("\(error)".contains("14 tokens"), "\(error)")
        }
    }

    func testCorpusReadsFilesAndDirectories() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-corpus-\(UUID())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "second".write(to: dir.appendingPathComponent("sub/b.txt"), atomically: true, encoding: .utf8)
        try "first".write(to: dir.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        try "hidden".write(to: dir.appendingPathComponent(".h.txt"), atomically: true, encoding: .utf8)
        let docs = try CalibrationCorpus.load(paths: [dir.path])
        XCTAssertEqual(docs.map(\.text), ["first", "second"])
        XCTAssertEqual(try CalibrationCorpus.load(paths: [dir.appendingPathComponent("a.txt").path]).map(\.text), ["first"])
        XCTAssertThrowsError(try CalibrationCorpus.load(paths: [dir.appendingPathComponent("missing").path]))
        XCTAssertEqual(try CalibrationCorpus.load(paths: []), BuiltInCorpus.documents)
    }
}
