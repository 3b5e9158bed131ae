import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn and reaped with waitpid. Used instead of
/// Foundation's `Process`, whose `waitUntilExit` on Linux can miss the exit of a child
/// when several threads spawn processes at once (seen here: a test run that never ended).
public final class Subprocess: @unchecked Sendable {
    public let pid: pid_t
    private let outFD: Int32
    private let errFD: Int32
    private var outBuffer: [UInt8] = []
    private var errBuffer: [UInt8] = []
    private var status: Int32?
    private var outOpen = true
    private var errOpen = true
    /// Write end of the child's standard input, when it was asked for.
    private var inFD: Int32 = -1

    /// Starts `args` (looked up in PATH through /usr/bin/env) with stdout and stderr piped;
    /// with `stdin: true` its standard input is a pipe written by `write(_:)`.
    /// With `newProcessGroup` the child leads a process group of its own, which
    /// `signalGroup` signals as a terminal's Ctrl-C would.
    public init(_ args: [String], environment: [String: String]? = nil, stdin: Bool = false,
                newProcessGroup: Bool = false) throws {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0], inPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw TestFailure("pipe: errno \(errno)") }
        if stdin { guard pipe(&inPipe) == 0 else { throw TestFailure("pipe: errno \(errno)") } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if stdin {
            posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
            posix_spawn_file_actions_addclose(&actions, inPipe[0])
            posix_spawn_file_actions_addclose(&actions, inPipe[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [outPipe[0], outPipe[1], errPipe[0], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = (["/usr/bin/env"] + args).map { strdup($0) } + [nil]
        let envDict = environment ?? ProcessInfo.processInfo.environment
        let envp = envDict.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        if newProcessGroup {
            posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attr, 0)
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/usr/bin/env", &actions, &attr, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        if stdin { close(inPipe[0]) }
        inFD = inPipe[1]
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw TestFailure("posix_spawn \(args.first ?? ""): \(rc)")
        }
        pid = child
        outFD = outPipe[0]
        errFD = errPipe[0]
    }

    deinit {
        if status == nil {
            Glibc.kill(pid, SIGKILL)
            var st: Int32 = 0
            waitpid(pid, &st, 0)
        }
        close(outFD)
        close(errFD)
        if inFD >= 0 { close(inFD) }
    }

    /// Writes to the child's standard input.
    public func write(_ text: String) throws {
        guard inFD >= 0 else { throw TestFailure("stdin is not a pipe") }
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(inFD, $0.baseAddress, $0.count) }
            guard n > 0 else { throw TestFailure("write to stdin: errno \(errno)") }
            off += n
        }
    }

    /// Closes the child's standard input (end of file).
    public func closeStdin() {
        if inFD >= 0 { close(inFD); inFD = -1 }
    }

    /// Reads what the pipes have, waiting at most `timeoutMs`.
    private func pump(timeoutMs: Int32) {
        var fds = [pollfd(fd: outOpen ? outFD : -1, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: errOpen ? errFD : -1, events: Int16(POLLIN), revents: 0)]
        guard outOpen || errOpen, Glibc.poll(&fds, 2, timeoutMs) > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 65536)
        if fds[0].revents != 0 {
            let n = read(outFD, &chunk, chunk.count)
            if n > 0 { outBuffer.append(contentsOf: chunk[0..<n]) } else { outOpen = false }
        }
        if fds[1].revents != 0 {
            let n = read(errFD, &chunk, chunk.count)
            if n > 0 { errBuffer.append(contentsOf: chunk[0..<n]) } else { errOpen = false }
        }
    }

    /// The exit status once the child ended (nil while it runs). 128+N for signal N.
    public func poll() -> Int32? {
        if let status { return status }
        var st: Int32 = 0
        if waitpid(pid, &st, WNOHANG) == pid {
            status = (st & 0x7F) == 0 ? (st >> 8) & 0xFF : 128 + (st & 0x7F)
        }
        return status
    }

    /// The next line of standard output, or nil at the timeout or at its end.
    public func readLine(timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let i = outBuffer.firstIndex(of: 10) {
                let line = String(decoding: outBuffer[..<i], as: UTF8.self)
                outBuffer.removeFirst(i + 1)
                return line
            }
            if !outOpen || deadline.timeIntervalSinceNow <= 0 { return nil }
            pump(timeoutMs: Int32(min(100, max(1, deadline.timeIntervalSinceNow * 1000))))
        }
    }

    /// Waits for the child to end, collecting its output.
    public func wait(timeout: Double = 120) throws -> (status: Int32, out: String, err: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while poll() == nil {
            guard deadline.timeIntervalSinceNow > 0 else { throw TestFailure("process \(pid) still running after \(timeout)s") }
            pump(timeoutMs: 50)
        }
        // Drain whatever is left without blocking on pipes a grandchild may still hold.
        for _ in 0..<20 where outOpen || errOpen { pump(timeoutMs: 10) }
        return (status!, String(decoding: outBuffer, as: UTF8.self), String(decoding: errBuffer, as: UTF8.self))
    }

    public func signal(_ sig: Int32) { Glibc.kill(pid, sig) }

    /// Signals the child's whole process group (it must have been started with `newProcessGroup`).
    public func signalGroup(_ sig: Int32) { Glibc.kill(-pid, sig) }

    /// Runs to completion.
    public static func run(_ args: [String], environment: [String: String]? = nil,
                           timeout: Double = 120) throws -> (status: Int32, out: String, err: String) {
        try Subprocess(args, environment: environment).wait(timeout: timeout)
    }
}
