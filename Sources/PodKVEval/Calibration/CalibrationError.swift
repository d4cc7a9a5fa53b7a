/// Why a calibration could not run or its result could not be used.
public enum CalibrationError: Error, CustomStringConvertible, Equatable {
    /// An option is out of range or inconsistent with another.
    case invalidOption(String)
    /// Input data (text, matrices, distributions) does not fit what the calibration needs.
    case invalidInput(String)
    /// No delta reaches the requested saving.
    case unreachableTarget(String)

    public var description: String {
        switch self {
        case .invalidOption(let why): "invalid calibration option: \(why)"
        case .invalidInput(let why): "invalid calibration input: \(why)"
        case .unreachableTarget(let why): "cannot reach the target saving: \(why)"
        }
    }
}
