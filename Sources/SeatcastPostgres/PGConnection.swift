import CLibPQ

/// One libpq connection, used by one thread at a time. Blocking calls only.
public final class PGConnection {
    let conn: OpaquePointer
    /// Set by the notice receiver when the server sent a FATAL (or PANIC) error outside a
    /// query: it is ending this session. Its own allocation, so that libpq never holds a
    /// pointer to this object; freed after PQfinish.
    private let serverEnded: UnsafeMutablePointer<Bool>

    /// Connects with a libpq URL or key=value string.
    public init(_ url: String) throws(PGError) {
        guard let c = PQconnectdb(url) else { throw PGError(kind: .connection, sqlState: nil, message: "out of memory") }
        guard PQstatus(c) == CONNECTION_OK else {
            let e = PGError.fromConnection(c)
            PQfinish(c)
            throw e
        }
        conn = c
        serverEnded = .allocate(capacity: 1)
        serverEnded.initialize(to: false)
        // NOTICEs stay quiet (the default prints them to stderr). An error that arrives while
        // no query runs goes here too: a FATAL one is the server ending the session.
        PQsetNoticeReceiver(c, { flag, res in
            guard let flag, let res, let severity = PQresultErrorField(res, Int32(UInt8(ascii: "V"))) else { return }
            let s = String(cString: severity)
            if s == "FATAL" || s == "PANIC" { flag.assumingMemoryBound(to: Bool.self).pointee = true }
        }, UnsafeMutableRawPointer(serverEnded))
        // Fix the settings results depend on.
        _ = try? exec("SET client_min_messages = warning; SET TIME ZONE 'UTC'")
    }

    deinit {
        PQfinish(conn)
        serverEnded.deallocate()
    }

    public var isConnected: Bool { PQstatus(conn) == CONNECTION_OK && !serverEnded.pointee }

    /// Whether this idle connection (no query in flight) can still run a query, found out
    /// without a round trip. A server that ends a session (restart, shutdown,
    /// pg_terminate_backend) sends a FATAL error and closes the socket, but libpq reads
    /// neither until the next query, which then fails. So read what the socket holds now,
    /// let libpq parse it (notifications are kept for `notifications()`; a FATAL reaches
    /// the notice receiver) and report the end of file or the FATAL. A connection lost
    /// without a word (a network cut) still looks alive: only a query can tell.
    public func isAliveWhenIdle() -> Bool {
        // Bounded: a connection that keeps receiving (notifications) is alive anyway.
        for _ in 0..<8 {
            guard isConnected else { return false }
            var p = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            guard p.fd >= 0 else { return false }
            if poll(&p, 1, 0) <= 0 { return true }
            guard PQconsumeInput(conn) == 1 else { return false }
            _ = PQisBusy(conn) // parses what arrived
        }
        return isConnected
    }

    /// The socket to poll for notifications.
    public var socket: Int32 { PQsocket(conn) }

    /// Runs one statement with text parameters and returns its result.
    @discardableResult
    public func exec(_ sql: String, _ params: [String?] = []) throws(PGError) -> PGResult {
        let res: OpaquePointer?
        if params.isEmpty {
            res = PQexec(conn, sql)
        } else {
            res = Self.withCStrings(params) { ptrs in
                PQexecParams(conn, sql, Int32(ptrs.count), nil, ptrs, nil, nil, 0)
            }
        }
        guard let res else { throw PGError.fromConnection(conn) }
        switch PQresultStatus(res) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PGResult(res)
        default:
            let e = PGError.fromResult(res, conn: conn)
            PQclear(res)
            throw e
        }
    }

    /// Runs `body` inside BEGIN/COMMIT; rolls back when it throws.
    public func transaction<T>(_ body: () throws(PGError) -> T) throws(PGError) -> T {
        try exec("BEGIN")
        do {
            let v = try body()
            try exec("COMMIT")
            return v
        } catch {
            if isConnected { _ = try? exec("ROLLBACK") }
            throw error
        }
    }

    /// Reads whatever arrived on the socket and returns pending notifications.
    public func notifications() throws(PGError) -> [(channel: String, payload: String)] {
        guard PQconsumeInput(conn) == 1 else { throw PGError.fromConnection(conn) }
        var out: [(String, String)] = []
        while let n = PQnotifies(conn) {
            out.append((String(cString: n.pointee.relname), String(cString: n.pointee.extra)))
            PQfreemem(n)
        }
        return out
    }

    private static func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var owned: [UnsafeMutablePointer<CChar>?] = strings.map { s in s.map { strdup($0) } }
        defer { for p in owned { free(p) } }
        return owned.withUnsafeMutableBufferPointer { buf in
            body(buf.map { $0.map { UnsafePointer($0) } })
        }
    }
}

/// A result set; rows and columns are zero-based, values are text.
public final class PGResult {
    let res: OpaquePointer

    init(_ res: OpaquePointer) { self.res = res }
    deinit { PQclear(res) }

    public var rowCount: Int { Int(PQntuples(res)) }
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(res))) ?? 0 }

    public func isNull(_ row: Int, _ col: Int) -> Bool { PQgetisnull(res, Int32(row), Int32(col)) == 1 }

    public func string(_ row: Int, _ col: Int) -> String? {
        if isNull(row, col) { return nil }
        return String(cString: PQgetvalue(res, Int32(row), Int32(col)))
    }

    public func int64(_ row: Int, _ col: Int) -> Int64? {
        if isNull(row, col) { return nil }
        return Self.parseInt(PQgetvalue(res, Int32(row), Int32(col)))
    }

    public func int(_ row: Int, _ col: Int) -> Int? { int64(row, col).map(Int.init) }

    /// A `text[]` of simple words (seat numbers): `{1A,1B}`.
    public func words(_ row: Int, _ col: Int) -> [String]? {
        guard let s = string(row, col) else { return nil }
        let inner = s.dropFirst().dropLast()
        if inner.isEmpty { return [] }
        return inner.split(separator: ",").map { String($0.filter { $0 != "\"" }) }
    }

    static func parseInt(_ p: UnsafePointer<CChar>) -> Int64? {
        var v: Int64 = 0
        var i = 0
        var neg = false
        if p[0] == CChar(UInt8(ascii: "-")) { neg = true; i = 1 }
        guard p[i] != 0 else { return nil }
        while p[i] != 0 {
            let d = Int64(p[i]) - 48
            guard d >= 0 && d <= 9 else { return nil }
            v = v &* 10 &+ d
            i += 1
        }
        return neg ? -v : v
    }
}

#if canImport(Glibc)
import Glibc
#endif
