/// A human-readable summary of a GGUF file, for `podkv inspect`.
extension GGUFFile {
    /// Version, sizes, a metadata table (key, wire type, value) and a tensor table (name, type, dims,
    /// bytes). Arrays longer than `maxArrayItems` show their first items and their length; strings are
    /// quoted and cut at 60 characters.
    public func describe(maxArrayItems: Int = 8) -> String {
        let shown = max(0, maxArrayItems)
        var lines: [String] = []
        let source = path.map { "'\($0)'" } ?? "in-memory image"
        lines.append("GGUF v\(version) \(source): \(fileSize) bytes, alignment \(alignment), "
            + "data at offset \(dataOffset)")

        lines.append("")
        lines.append("metadata (\(metadataKeys.count) keys):")
        let keyWidth = metadataKeys.map(\.count).max() ?? 0
        for key in metadataKeys {
            guard let entry = entries[key] else { continue }
            let (type, text) = summary(of: entry, maxItems: shown)
            lines.append("  " + pad(key, keyWidth) + "  " + pad(type, 10) + "  " + text)
        }

        let totalBytes = tensors.reduce(0) { $0 + $1.byteCount }
        lines.append("")
        lines.append("tensors (\(tensors.count), \(totalBytes) bytes of data):")
        let nameWidth = tensors.map(\.name.count).max() ?? 0
        let dimsTexts = tensors.map { $0.dimensions.map(String.init).joined(separator: " x ") }
        let dimsWidth = dimsTexts.map(\.count).max() ?? 0
        for (tensor, dims) in zip(tensors, dimsTexts) {
            lines.append("  " + pad(tensor.name, nameWidth) + "  " + pad(tensor.type.description, 7) + "  "
                + pad(dims, dimsWidth) + "  " + String(tensor.byteCount))
        }
        return lines.joined(separator: "\n")
    }

    /// (type column, value column) for one metadata entry, decoding at most `maxItems` array elements.
    private func summary(of entry: MetadataEntry, maxItems: Int) -> (String, String) {
        switch entry {
        case let .value(value):
            // Only arrays of arrays are kept as `.value(.array)`; other arrays are `.strings` / `.numbers`.
            if case let .array(elements) = value {
                return ("arr[arr]", list(elements.prefix(maxItems).map { render($0, maxItems: maxItems) },
                                         total: elements.count))
            }
            return (value.valueType.description, render(value, maxItems: maxItems))
        case let .strings(strings):
            return ("arr[str]", list(strings.prefix(maxItems).map { render(.string($0), maxItems: maxItems) }, total: strings.count))
        case let .numbers(type, count, offset):
            let items = (0..<min(count, maxItems)).map {
                render(readNumber(type, at: offset + $0 * type.minimumSize, in: storage.buffer), maxItems: maxItems)
            }
            return ("arr[\(type)]", list(items, total: count))
        }
    }

    private func list(_ items: [String], total: Int) -> String {
        let more = total > items.count ? ", ... (\(total) items)" : ""
        return "[" + items.joined(separator: ", ") + more + "]"
    }

    private func render(_ value: GGUFValue, maxItems: Int) -> String {
        switch value {
        case let .string(s):
            let cut = s.count > 60 ? String(s.prefix(60)) + "..." : s
            return "\"" + cut.escapedForTable() + "\""
        case let .array(elements):
            return list(elements.prefix(maxItems).map { render($0, maxItems: maxItems) }, total: elements.count)
        case let .float32(v): return "\(v)"
        case let .float64(v): return "\(v)"
        case let .bool(v): return "\(v)"
        default: return value.intValue.map(String.init) ?? "\(value)"
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

extension String {
    /// Escapes quotes, backslashes, line breaks and tabs, so a value reads unambiguously on one line.
    fileprivate func escapedForTable() -> String {
        var out = ""
        for ch in self {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.append(ch)
            }
        }
        return out
    }
}
