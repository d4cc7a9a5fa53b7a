import Foundation

/// Adam (Kingma & Ba) over one flat parameter vector, with bias correction; the learning rate is given per
/// step (the trainer's schedule). Its moments are part of a checkpoint.
struct AdamOptimizer: Codable, Equatable {
    var first: [Float]
    var second: [Float]
    var beta1: Float = 0.9
    var beta2: Float = 0.999
    var epsilon: Float = 1e-8

    init(count: Int) {
        first = [Float](repeating: 0, count: count)
        second = [Float](repeating: 0, count: count)
    }

    /// One update of `parameters` by `gradient` at 1-based step `t`.
    mutating func step(_ parameters: inout [Float], gradient: [Float], learningRate: Float, t: Int) {
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(t)))
        let c2 = 1 - Float(Foundation.pow(Double(beta2), Double(t)))
        for i in parameters.indices {
            let g = gradient[i]
            first[i] = beta1 * first[i] + (1 - beta1) * g
            second[i] = beta2 * second[i] + (1 - beta2) * g * g
            parameters[i] -= learningRate * (first[i] / c1) / ((second[i] / c2).squareRoot() + epsilon)
        }
    }
}
