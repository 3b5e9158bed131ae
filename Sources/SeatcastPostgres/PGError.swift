import CLibPQ

/// Every failure that comes out of libpq, built in one place.
public struct PGError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The connection is gone or could not be made: retry after reconnecting.
        case connection
        /// The server refused a statement (see `sqlState`).
        case query
    }

    public var kind: Kind
    /// Five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    public var message: String

    public var description: String {
        if let sqlState { return "\(message) (SQLSTATE \(sqlState))" }
        return message
    }

    /// Deadlock or serialization failure: running the transaction again may succeed.
    public var isRetryable: Bool { sqlState == "40P01" || sqlState == "40001" }

    static func fromConnection(_ conn: OpaquePointer?) -> PGError {
        let m = conn.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? "out of memory"
        return PGError(kind: .connection, sqlState: nil, message: m.trimmingTrailingNewlines())
    }

    static func fromResult(_ res: OpaquePointer?, conn: OpaquePointer) -> PGError {
        guard let res else { return fromConnection(conn) }
        let state = PQresultErrorField(res, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let primary = PQresultErrorField(res, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? String(cString: PQresultErrorMessage(res)).trimmingTrailingNewlines()
        let lost = PQstatus(conn) != CONNECTION_OK
        // 57P01..57P03: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection exceptions.
        let connectionState = state.map { $0.hasPrefix("08") || $0.hasPrefix("57P") } ?? false
        return PGError(kind: lost || connectionState ? .connection : .query, sqlState: state, message: primary)
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
