import Foundation

/// PoD state: per (layer, KV head) the owner's full keys or the non-owner's proximal keys (which of the
/// two is fixed by the plan, recorded in the settings), then the values. Distant keys are not
/// duplicated: a restored cache is as compressed as the saved one.
extension PoDCache: KVStatePersistable {
    /// Includes the owner map (the plan's layout), not the plan file path: two plans with the same
    /// owners store and attend identically.
    public var persistedSettings: [String: String] {
        [
            "sink": String(sinkCount), "window": String(windowCount), "kv-type": elementType.rawValue,
            "distant-query": distantQuery.rawValue,
            "skip-threshold": skipThreshold.map { String($0) } ?? "off",
            "adapter": adapter == nil ? "none" : "loaded",
            "owners": plan.owners.map { $0.map(String.init).joined(separator: ",") }.joined(separator: ";"),
        ]
    }

    public func writeState(to writer: inout KVStateWriter) {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                if let k = ownerKeys[l][h] { k.writeState(to: &writer) } else { proximalKeys[l][h]!.writeState(to: &writer) }
                values[l][h].writeState(to: &writer)
            }
        }
    }

    public func readState(from reader: inout KVStateReader, tokenCount n: Int) throws {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                if let k = ownerKeys[l][h] {
                    try k.readState(from: &reader, expected: n, "owner keys of layer \(l) head \(h)")
                } else {
                    try proximalKeys[l][h]!.readState(from: &reader, expected: n, "proximal keys of layer \(l) head \(h)")
                }
                try values[l][h].readState(from: &reader, expected: n, "values of layer \(l) head \(h)")
            }
        }
        tokenCount = n
    }
}
