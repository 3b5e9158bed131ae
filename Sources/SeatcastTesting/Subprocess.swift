import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn and reaped with waitpid. Used instead of
/// Foundation's `Process`, whose `waitUntilExit` on Linux can miss the exit of a child
/// when several threads spawn processes at once (seen here: a test run that never ended).
public final class Subprocess: @unchecked Sendable {
    public let pid: pid_t
    /// Read ends of the child's standard output and error; each is closed at its end of
    /// file or when this object goes away, whichever comes first, and only once.
    private let outFD: OwnedFD
    private let errFD: OwnedFD
    private var outBuffer: [UInt8] = []
    private var errBuffer: [UInt8] = []
    private var status: Int32?
    /// Write end of the child's standard input, when it was asked for (closed by `closeStdin`).
    private let inFD: OwnedFD

    /// Starts `args` (looked up in PATH through /usr/bin/env) with stdout and stderr piped;
    /// with `stdin: true` its standard input is a pipe written by `write(_:)`.
    /// With `newProcessGroup` the child leads a process group of its own, which
    /// `signalGroup` signals as a terminal's Ctrl-C would.
    public init(_ args: [String], environment: [String: String]? = nil, stdin: Bool = false,
                newProcessGroup: Bool = false) throws {
        // Every descriptor is owned from the moment it exists: whichever way this init
        // ends, each one is closed exactly once.
        let out = try OwnedFD.pipe(), err = try OwnedFD.pipe()
        let input = stdin ? try OwnedFD.pipe() : nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input {
            posix_spawn_file_actions_adddup2(&actions, input.read.raw, 0)
            posix_spawn_file_actions_addclose(&actions, input.read.raw)
            posix_spawn_file_actions_addclose(&actions, input.write.raw)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, out.write.raw, 1)
        posix_spawn_file_actions_adddup2(&actions, err.write.raw, 2)
        for fd in [out.read.raw, out.write.raw, err.read.raw, err.write.raw] { posix_spawn_file_actions_addclose(&actions, fd) }
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
        // Children start with no signal blocked and every signal at its default: the test
        // runner's threads block and ignore some, and a tmux server that inherited that
        // outlived `kill-server` with its pane.
        var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attr, &all)
        if newProcessGroup {
            flags |= Int16(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attr, 0)
        }
        posix_spawnattr_setflags(&attr, flags)
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/usr/bin/env", &actions, &attr, argv, envp)
        // The child's ends belong to the child now (or to nobody, when the spawn failed).
        out.write.close()
        err.write.close()
        input?.read.close()
        guard rc == 0 else { throw TestFailure("posix_spawn \(args.first ?? ""): \(rc)") }
        pid = child
        outFD = out.read
        errFD = err.read
        inFD = input?.write ?? OwnedFD(-1)
    }

    /// Kills a child still running and reaps it; the pipes close with their owners.
    deinit {
        if status == nil {
            Glibc.kill(pid, SIGKILL)
            var st: Int32 = 0
            waitpid(pid, &st, 0)
        }
    }

    /// Writes to the child's standard input.
    public func write(_ text: String) throws {
        guard inFD.isOpen else { throw TestFailure("stdin is not a pipe") }
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(inFD.raw, $0.baseAddress, $0.count) }
            guard n > 0 else { throw TestFailure("write to stdin: errno \(errno)") }
            off += n
        }
    }

    /// Closes the child's standard input (end of file).
    public func closeStdin() { inFD.close() }

    /// Reads what the pipes have, waiting at most `timeoutMs`.
    private func pump(timeoutMs: Int32) {
        // A closed end is -1, which poll skips.
        var fds = [pollfd(fd: outFD.raw, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: errFD.raw, events: Int16(POLLIN), revents: 0)]
        guard outOpen || errOpen, Glibc.poll(&fds, 2, timeoutMs) > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 65536)
        if fds[0].revents != 0 {
            let n = read(outFD.raw, &chunk, chunk.count)
            if n > 0 { outBuffer.append(contentsOf: chunk[0..<n]) } else { outFD.close() }
        }
        if fds[1].revents != 0 {
            let n = read(errFD.raw, &chunk, chunk.count)
            if n > 0 { errBuffer.append(contentsOf: chunk[0..<n]) } else { errFD.close() }
        }
    }

    private var outOpen: Bool { outFD.isOpen }
    private var errOpen: Bool { errFD.isOpen }

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
