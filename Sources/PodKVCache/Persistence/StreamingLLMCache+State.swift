import Foundation

/// StreamingLLM / window state: the sink and ring slots of every (layer, KV head), keys then values.
extension StreamingLLMCache: KVStatePersistable {
    public var persistedSettings: [String: String] {
        ["sink": String(sinkCount), "window": String(windowCount), "kv-type": elementType.rawValue]
    }

    public func writeState(to writer: inout KVStateWriter) {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                keys[l][h].writeState(to: &writer)
                values[l][h].writeState(to: &writer)
            }
        }
    }

    public func readState(from reader: inout KVStateReader, tokenCount n: Int) throws {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                try keys[l][h].readState(from: &reader, expected: n, "keys of layer \(l) head \(h)")
                try values[l][h].readState(from: &reader, expected: n, "values of layer \(l) head \(h)")
            }
        }
        tokenCount = n
    }
}
