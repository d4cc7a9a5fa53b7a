import Foundation

/// What a finished child process left behind.
struct SubprocessResult: Sendable {
    /// The exit status (or the signal number, negated, if it was killed by one).
    var exitCode: Int32
    /// Every stdout line, without line terminators.
    var stdoutLines: [String]
    /// The last few lines of stderr, joined with newlines; enough to explain a failure.
    var stderrTail: String
}

/// Runs helper tools (`python3`) found on `PATH`, streaming stdout line by line.
///
/// stderr is drained on another thread: a child that fills the stderr pipe while we block on stdout would
/// otherwise deadlock.
enum Subprocess {
    /// The number of stderr lines kept for error messages.
    static let stderrTailLines = 12

    /// Runs `arguments[0]` (looked up on `PATH` through `/usr/bin/env`) with the remaining arguments.
    ///
    /// - Parameter onStdoutLine: called on the calling thread for each stdout line as it arrives.
    /// - Throws: `ModelStoreError.toolUnavailable` if the tool cannot be started or is not on `PATH`.
    static func run(_ arguments: [String], onStdoutLine: ((String) -> Void)? = nil) throws -> SubprocessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        let tool = arguments.first ?? "(nothing)"
        do {
            try process.run()
        } catch {
            throw ModelStoreError.toolUnavailable(tool: tool, detail: "\(error)")
        }

        let stderrData = LockedData()
        let stderrDone = DispatchGroup()
        let stderrHandle = stderrPipe.fileHandleForReading
        stderrDone.enter()
        DispatchQueue.global().async {
            stderrData.set(stderrHandle.readDataToEndOfFile())
            stderrDone.leave()
        }

        var lines: [String] = []
        var pending = Data()
        let stdoutHandle = stdoutPipe.fileHandleForReading
        func emit(_ bytes: Data) {
            var line = String(decoding: bytes, as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            lines.append(line)
            onStdoutLine?(line)
        }
        while true {
            let chunk = stdoutHandle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                emit(pending[pending.startIndex..<newline])
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { emit(pending) }

        stderrDone.wait()
        process.waitUntilExit()
        let stderrText = String(decoding: stderrData.get(), as: UTF8.self)
        let tail = stderrText.split(separator: "\n", omittingEmptySubsequences: true)
            .suffix(stderrTailLines).joined(separator: "\n")
        let exitCode =
            process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        // `env` reports a missing program with status 127: that is the tool missing, not the tool failing.
        if exitCode == 127 {
            throw ModelStoreError.toolUnavailable(tool: tool, detail: tail.isEmpty ? "not found on PATH" : tail)
        }
        return SubprocessResult(exitCode: exitCode, stdoutLines: lines, stderrTail: tail)
    }
}

/// A byte buffer handed from the stderr reader thread to the waiting caller.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func set(_ newValue: Data) { lock.withLock { data = newValue } }
    func get() -> Data { lock.withLock { data } }
}
