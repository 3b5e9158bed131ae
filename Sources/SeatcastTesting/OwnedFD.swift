#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor with one owner that closes it exactly once. `close()` forgets the
/// number, so neither a second `close()` nor `deinit` can close it again: by then the
/// kernel may have handed that number to another thread (a server socket, a database
/// connection, glibc's own netlink socket, whose loss aborts the process).
///
/// Wrap a descriptor the moment it is created and never close its `raw` value directly.
/// Not thread-safe: the owner's thread alone uses and closes it.
public final class OwnedFD {
    /// The descriptor, or -1 once closed (or when creating it failed).
    public private(set) var raw: Int32

    /// Takes ownership of `raw` (a negative value, a failed `socket()` say, owns nothing).
    public init(_ raw: Int32) { self.raw = raw }

    deinit { close() }

    public var isOpen: Bool { raw >= 0 }

    /// Closes the descriptor if it is still open; later calls do nothing.
    public func close() {
        guard raw >= 0 else { return }
        let fd = raw
        raw = -1
        // Linux releases the number even when close reports an error (EINTR included):
        // never retry, the number may already belong to someone else.
        _ = Glibc.close(fd)
    }

    /// A pipe whose two ends are closed on exec, so a child spawned by another thread
    /// meanwhile does not inherit them (and keep the read end from seeing end of file).
    /// Swift's Glibc does not import pipe2; FD_CLOEXEC is set right after pipe(2), which
    /// leaves only a tiny window for such a leak.
    public static func pipe() throws -> (read: OwnedFD, write: OwnedFD) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw TestFailure("pipe: errno \(errno)") }
        let ends = (read: OwnedFD(fds[0]), write: OwnedFD(fds[1]))
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return ends
    }
}
