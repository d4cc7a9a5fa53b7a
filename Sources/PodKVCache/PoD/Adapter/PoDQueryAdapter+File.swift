import Foundation
import PodKVModel

/// The adapter file: the 8-byte magic "PODKVADP", a little-endian UInt32 version, a UInt32 header length,
/// the JSON `Info`, the adapted-head mask as one byte per (layer, query head), then `layout.count`
/// little-endian fp32 parameters for each layer with an adapted head, in layer order (other layers hold
/// the identity and are not stored). Version 1 files (every layer's parameters first, the mask last) are
/// still read. Written to a temporary file and renamed, so a
/// crash never leaves a half-written adapter under the final name.
extension PoDQueryAdapter {
    public static let fileMagic = Array("PODKVADP".utf8)
    public static let fileVersion = 2

    /// Loads and checks an adapter file (structure only; `validate` checks it against a model and plan).
    public static func load(path: String) throws -> PoDQueryAdapter {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PoDAdapterError.unreadable(path: path, why: "\(error.localizedDescription)")
        }
        let bytes = [UInt8](data)
        func u32(_ at: Int) -> Int {
            Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
        }
        guard bytes.count >= 16, Array(bytes[0..<8]) == fileMagic else {
            throw PoDAdapterError.malformed(path: path, why: "missing the PODKVADP magic (not an adapter file)")
        }
        let version = u32(8)
        guard version == 1 || version == fileVersion else { throw PoDAdapterError.unsupportedVersion(path: path, version: version) }
        let headerLength = u32(12)
        guard 16 + headerLength <= bytes.count else {
            throw PoDAdapterError.malformed(path: path, why: "truncated header (\(headerLength) bytes announced, \(bytes.count - 16) present)")
        }
        let info: Info
        do { info = try JSONDecoder().decode(Info.self, from: Data(bytes[16..<(16 + headerLength)])) } catch {
            throw PoDAdapterError.malformed(path: path, why: "header is not valid JSON: \(error)")
        }
        let lay = info.layout
        let layerCount = info.model.layerCount
        guard lay.headCount == info.model.headCount, lay.headDim == info.model.headDim, lay.rank >= 0,
              lay.inputWidth > 0, info.pairs.headDim == lay.headDim, info.owners.count == info.model.kvHeadCount,
              info.owners.allSatisfy({ $0.count == layerCount }) else {
            throw PoDAdapterError.malformed(path: path, why: "header shapes disagree with its model (\(info.model))")
        }
        // Version 1 put every layer's parameters before the mask.
        var offset = 16 + headerLength + (version == 1 ? layerCount * lay.count * 4 : 0)
        guard bytes.count >= offset + layerCount * lay.headCount else {
            throw PoDAdapterError.malformed(path: path, why: "\(bytes.count) bytes, truncated before the end of the adapted-head mask")
        }
        var adapted = [[Bool]]()
        for _ in 0..<layerCount {
            adapted.append((0..<lay.headCount).map { _ in defer { offset += 1 }; return bytes[offset] != 0 })
        }
        let stored = version == 1 ? layerCount : adapted.filter { $0.contains(true) }.count
        let expected = version == 1 ? offset : offset + stored * lay.count * 4
        guard bytes.count == expected else {
            throw PoDAdapterError.malformed(path: path, why: "\(bytes.count) bytes, expected \(expected) for \(stored) adapted layers of \(lay.count) parameters")
        }
        if version == 1 { offset = 16 + headerLength }
        var layers = [[Float]]()
        for l in 0..<layerCount {
            guard version == 1 || adapted[l].contains(true) else {
                layers.append(lay.identity())
                continue
            }
            var row = [Float](repeating: 0, count: lay.count)
            for i in 0..<lay.count {
                let v = Float(bitPattern: UInt32(u32(offset)))
                guard v.isFinite else { throw PoDAdapterError.malformed(path: path, why: "a parameter of layer \(l) is not finite") }
                row[i] = v
                offset += 4
            }
            layers.append(row)
        }
        return PoDQueryAdapter(info: info, weights: PoDAdapterWeights(layout: lay, layers: layers, adapted: adapted))
    }

    /// Writes the adapter to `path` atomically.
    public func save(path: String) throws {
        var out = Self.fileMagic
        func put32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8((v >> UInt32(s)) & 0xff)) } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = [UInt8](try encoder.encode(info))
        put32(UInt32(Self.fileVersion))
        put32(UInt32(header.count))
        out += header
        out.reserveCapacity(out.count + weights.layers.count * (info.layout.count * 4 + info.layout.headCount))
        for row in weights.adapted { for a in row { out.append(a ? 1 : 0) } }
        for (row, mask) in zip(weights.layers, weights.adapted) where mask.contains(true) { for v in row { put32(v.bitPattern) } }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(out).write(to: temporary)
            guard rename(temporary.path, path) == 0 else {
                throw PoDAdapterError.unreadable(path: path, why: "cannot rename the temporary file into place (errno \(errno))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw PoDAdapterError.unreadable(path: path, why: "cannot write: \(error.localizedDescription)")
        }
    }
}
