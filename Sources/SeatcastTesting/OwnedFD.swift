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

    /// A TCP connection to `host`:`port`, closed on exec (a process another test spawns
    /// meanwhile must not inherit it). `receiveBuffer` sets SO_RCVBUF before connecting (a
    /// small one makes a reader that pauses push back on the server quickly); `noDelay`
    /// sets TCP_NODELAY.
    public static func connectTCP(host: String = "127.0.0.1", port: Int, receiveBuffer: Int? = nil,
                                  noDelay: Bool = false) throws -> OwnedFD {
        let sock = OwnedFD(socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0))
        guard sock.isOpen else { throw TestFailure("socket: errno \(errno)") }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(sock.raw, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if noDelay {
            var one: Int32 = 1
            setsockopt(sock.raw, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(sock.raw, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // On failure the socket closes with `sock`, once.
        guard rc == 0 else { throw TestFailure("connect to port \(port): errno \(errno)") }
        return sock
    }

    /// A TCP socket bound to a free port of 127.0.0.1 and not listening: connections to
    /// that port are refused while it stays open, and no other socket can bind it.
    public static func boundTCP() throws -> (socket: OwnedFD, port: Int) {
        let sock = OwnedFD(socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0))
        guard sock.isOpen else { throw TestFailure("socket: errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock.raw, $0, len) == 0 && getsockname(sock.raw, $0, &len) == 0 }
        }
        guard bound else { throw TestFailure("bind: errno \(errno)") }
        return (sock, Int(UInt16(bigEndian: addr.sin_port)))
    }

    /// Writes all of `bytes`, however many calls it takes.
    public func writeAll(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(raw, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestFailure("send: errno \(errno)") }
            off += n
        }
    }
}

/// Where the head of an HTTP message ends: the index of its blank line's `\r\n\r\n`.
public func httpHeadEnd(_ d: ArraySlice<UInt8>) -> Int? {
    guard d.count >= 4 else { return nil }
    var i = d.startIndex
    while i + 3 < d.endIndex {
        if d[i] == 13 && d[i + 1] == 10 && d[i + 2] == 13 && d[i + 3] == 10 { return i }
        i += 1
    }
    return nil
}
