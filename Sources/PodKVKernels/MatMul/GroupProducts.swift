/// Products of several weight matrices with one shared input (q/k/v of attention, gate/up of the FFN),
/// through the integer kernels.
///
/// Why a group: the input is quantized to 8 bits once instead of once per matrix, and all rows of all
/// matrices go to the pool as one job, so a decode step pays one dispatch for q, k and v together (and one
/// for gate and up) instead of three (two). llama.cpp quantizes `src1` once per op for the same reason.
extension MatMul {
    /// Whether `type` has an integer (8-bit activation) kernel; f32/f16/bf16 do not.
    public static func hasInt8Kernel(_ type: TensorType) -> Bool {
        type.format is any Q8DotFormat.Type
    }

    /// Y_k[i][r] = sum_c W_k[r][c] * X[i][c] for every matrix `W_k` of `weights`, computed with 8-bit
    /// activations (about 0.4% relative error per product, as `matvec`).
    ///
    /// - Parameters:
    ///   - weights: matrices with the same `cols` and types that have an int8 kernel (`hasInt8Kernel`).
    ///   - x: (n, cols) row-major input shared by every matrix.
    ///   - outputs: one pointer per matrix, (n, weights[k].rows) row-major.
    ///   - precision: activation form for matrices with an interleaved copy when `n == 1`.
    public static func groupQ8(
        _ weights: [WeightMatrix], _ x: UnsafePointer<Float>, batch n: Int,
        _ outputs: [UnsafeMutablePointer<Float>], pool: ThreadPool, precision: ActivationPrecision = .fine
    ) {
        guard n > 0, let first = weights.first else { return }
        precondition(weights.count == outputs.count, "one output per weight matrix")
        let cols = first.cols
        precondition(weights.allSatisfy { $0.cols == cols && hasInt8Kernel($0.type) },
                     "grouped int8 products need equal widths and int8 kernels")
        let stride = Q8Activation.scratchBytes(count: cols)
        // One heap block for the batch: a 64-row prefill chunk of a 4864-wide input is ~0.7 MB, too much
        // for the stack; the allocation is negligible next to the product itself.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * stride + 64, alignment: 64)
        let acts = UnsafeMutablePointer<Q8Activation>.allocate(capacity: n)
        defer {
            acts.deinitialize(count: n)
            acts.deallocate()
            raw.deallocate()
        }
        // The two-digit form of a single row, for interleaved matrices at `.fine` precision; the 8-bit form
        // is then quantized only if some matrix (no interleaved copy) reads it.
        let fineNeeded = n == 1 && precision == .fine && weights.contains { $0.interleaved != nil }
        let bytesNeeded = !fineNeeded || weights.contains { $0.interleaved == nil }
        for i in 0..<n {
            (acts + i).initialize(to: Q8Activation(scratch: raw + i * stride, count: cols))
            if bytesNeeded { acts[i].quantize(x + i * cols) }
        }
        let fineRaw = fineNeeded ? UnsafeMutableRawPointer.allocate(byteCount: Q8x2Activation.scratchBytes(count: cols), alignment: 64) : nil
        defer { fineRaw?.deallocate() }
        let fine = fineRaw.map { Q8x2Activation(scratch: $0, count: cols) }
        fine?.quantize(x)
        // Rows of every matrix form one index space; a chunk may span two matrices. A matrix with an
        // interleaved copy (used for a single row) counts in units of its 16-row groups.
        let grouped = n == 1
        func units(_ w: WeightMatrix) -> Int { grouped && w.interleaved != nil ? w.rows / InterleavedWeights.groupRows : w.rows }
        var starts = [0]
        for w in weights { starts.append(starts.last! + units(w)) }
        let total = starts.last!
        let activations = UnsafePointer(acts)
        starts.withUnsafeBufferPointer { startsBuffer in
            pool.parallelFor(total) { range in
                for k in weights.indices {
                    let lower = max(range.lowerBound, startsBuffer[k]), upper = min(range.upperBound, startsBuffer[k + 1])
                    guard lower < upper else { continue }
                    let base = startsBuffer[k]
                    if grouped, let iw = weights[k].interleaved {
                        if let fine {
                            iw.product(groups: (lower - base)..<(upper - base), fine, outputs[k])
                        } else {
                            iw.product(groups: (lower - base)..<(upper - base), activations[0], outputs[k])
                        }
                    } else {
                        rowsQ8(weights[k], rows: (lower - base)..<(upper - base), activations, batch: n, outputs[k])
                    }
                }
            }
        }
    }

    /// Rows `rows` of `w` against `n` quantized activations: Y[i][r] for Y (n, w.rows).
    static func rowsQ8(
        _ w: WeightMatrix, rows: Range<Int>, _ acts: UnsafePointer<Q8Activation>, batch n: Int,
        _ y: UnsafeMutablePointer<Float>
    ) {
        switch w.type {
        case .q8_0: rowsQ8(Q8_0Format.self, w, rows, acts, n, y)
        case .q4_0: rowsQ8(Q4_0Format.self, w, rows, acts, n, y)
        case .q4_1: rowsQ8(Q4_1Format.self, w, rows, acts, n, y)
        case .q5_0: rowsQ8(Q5_0Format.self, w, rows, acts, n, y)
        case .q5_1: rowsQ8(Q5_1Format.self, w, rows, acts, n, y)
        case .q4_K: rowsQ8(Q4_KFormat.self, w, rows, acts, n, y)
        case .q5_K: rowsQ8(Q5_KFormat.self, w, rows, acts, n, y)
        case .q6_K: rowsQ8(Q6_KFormat.self, w, rows, acts, n, y)
        default: preconditionFailure("no int8 kernel for tensor type \(w.type)")
        }
    }

    private static func rowsQ8<F: Q8DotFormat>(
        _: F.Type, _ w: WeightMatrix, _ rows: Range<Int>, _ acts: UnsafePointer<Q8Activation>, _ n: Int,
        _ y: UnsafeMutablePointer<Float>
    ) {
        let data = w.data, rowBytes = w.rowBytes, stride = w.rows
        // Activation groups outside, weight rows inside: four quantized activations (a few KB) stay in L1
        // while the weight rows stream past them in address order, each decoded once per group.
        var i = 0
        while i + 4 <= n {
            for r in rows { F.dotQ8x4(data + r * rowBytes, acts + i, y + i * stride + r, outStride: stride) }
            i += 4
        }
        while i < n {
            let act = acts[i]
            for r in rows { y[i * stride + r] = F.dotQ8(data + r * rowBytes, act) }
            i += 1
        }
    }
}
