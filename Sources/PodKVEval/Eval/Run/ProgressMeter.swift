import Foundation

/// Progress of a run with an ETA: work is counted in units (e.g. prompt tokens), so long trials weigh
/// more than short ones; the ETA is remaining units at the rate measured so far in this run.
public struct ProgressMeter {
    public let totalUnits: Int
    public let totalTrials: Int
    public private(set) var doneUnits = 0
    public private(set) var doneTrials = 0
    private let start = DispatchTime.now()

    public init(totalTrials: Int, totalUnits: Int) {
        self.totalTrials = totalTrials
        self.totalUnits = max(1, totalUnits)
    }

    /// Records a finished trial of `units` units.
    public mutating func finish(units: Int) {
        doneUnits += units
        doneTrials += 1
    }

    public var elapsedSeconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

    /// Seconds left at the rate so far, nil before the first trial finished.
    public var etaSeconds: Double? {
        guard doneUnits > 0 else { return nil }
        return elapsedSeconds / Double(doneUnits) * Double(max(0, totalUnits - doneUnits))
    }

    /// "[3/18] <what> | 1m02s elapsed, ETA 4m10s".
    public func line(_ what: String) -> String {
        let eta = etaSeconds.map { "ETA " + Self.duration($0) } ?? "ETA -"
        return "[\(doneTrials + 1)/\(totalTrials)] \(what) | \(Self.duration(elapsedSeconds)) elapsed, \(eta)"
    }

    /// "1h02m", "4m10s" or "12s".
    public static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }
}
