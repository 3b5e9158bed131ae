import SeatcastCore

/// The store's queries, run synchronously on a connection the caller owns.
/// Everything that changes seats goes through `apply`, one database round trip per batch.
public struct SeatStore {
    public let db: PGConnection

    public init(_ db: PGConnection) { self.db = db }

    // MARK: Trips

    public enum CreateResult: Equatable, Sendable { case created, exists }

    /// Creates a trip with `rows` x `cols` available seats named by `SeatNumbering`, in a
    /// transaction of its own.
    public func createTrip(id: String, name: String, rows: Int, cols: Int) throws(PGError) -> CreateResult {
        try db.transaction { () throws(PGError) -> CreateResult in
            try insertTrip(id: id, name: name, rows: rows, cols: cols)
        }
    }

    /// As `createTrip`, in the caller's transaction (`PostgresBackend.createTrip`, on the writer).
    func insertTrip(id: String, name: String, rows: Int, cols: Int) throws(PGError) -> CreateResult {
        var names: [String] = [], rs: [String] = [], cs: [String] = []
        for r in 1...rows {
            for c in 1...cols {
                names.append(SeatNumbering.seatNo(row: r, col: c, cols: cols))
                rs.append(String(r))
                cs.append(String(c))
            }
        }
        func arr(_ a: [String]) -> String { "{" + a.joined(separator: ",") + "}" }
        let ins = try db.exec("""
            INSERT INTO trips (trip_id, name, row_count, col_count) VALUES ($1, $2, $3, $4)
            ON CONFLICT (trip_id) DO NOTHING
            """, [id, name, String(rows), String(cols)])
        if ins.affectedRows == 0 { return .exists }
        try db.exec("""
            INSERT INTO seats (trip_id, seat_no, row_no, col_no)
            SELECT $1, unnest($2::text[]), unnest($3::int[]), unnest($4::int[])
            """, [id, arr(names), arr(rs), arr(cs)])
        return .created
    }

    /// Deletes a trip, its seats and its history (`seatcast_trips_after_delete`), in the
    /// caller's transaction; false when there is no such trip. Its subscribers are not told
    /// here: the listener finds the history gone and asks for a resync, whose snapshot then
    /// fails with unknown_trip.
    func deleteTrip(id: String) throws(PGError) -> Bool {
        try db.exec("DELETE FROM trips WHERE trip_id = $1", [id]).affectedRows == 1
    }

    public func trips() throws(PGError) -> [TripSummary] {
        let r = try db.exec("""
            SELECT t.trip_id, t.name, count(s.seat_no), count(s.seat_no) FILTER (WHERE s.status = 'available')
            FROM trips t LEFT JOIN seats s USING (trip_id)
            GROUP BY t.trip_id, t.name ORDER BY t.trip_id
            """)
        return (0..<r.rowCount).map { i in
            TripSummary(tripId: r.string(i, 0)!, name: r.string(i, 1)!, seats: r.int(i, 2)!, available: r.int(i, 3)!)
        }
    }

    /// One page of `trips()`: at most `limit` trips with `trip_id > after`, by trip id. The
    /// counts are read for those trips only (the primary key's range, then their seats).
    public func trips(limit: Int, after: String?) throws(PGError) -> [TripSummary] {
        let r = try db.exec("""
            SELECT t.trip_id, t.name,
                   (SELECT count(*) FROM seats s WHERE s.trip_id = t.trip_id),
                   (SELECT count(*) FROM seats s WHERE s.trip_id = t.trip_id AND s.status = 'available')
            FROM trips t WHERE $1::text IS NULL OR t.trip_id > $1 ORDER BY t.trip_id LIMIT $2
            """, [after, String(limit)])
        return (0..<r.rowCount).map { i in
            TripSummary(tripId: r.string(i, 0)!, name: r.string(i, 1)!, seats: r.int(i, 2)!, available: r.int(i, 3)!)
        }
    }

    /// Seats and stream position in one statement, hence one database snapshot:
    /// the map reflects exactly the events with `seq <= snapshot.seq`.
    public func snapshot(tripId: String) throws(PGError) -> TripSnapshot? {
        let r = try db.exec("""
            SELECT t.name, t.row_count, t.col_count, t.epoch, t.last_seq,
                   s.seat_no, s.row_no, s.col_no, s.status, floor(extract(epoch FROM s.until) * 1000)::bigint
            FROM trips t JOIN seats s USING (trip_id)
            WHERE t.trip_id = $1
            ORDER BY s.row_no, s.col_no
            """, [tripId])
        guard r.rowCount > 0 else { return nil }
        var seats: [SeatState] = []
        seats.reserveCapacity(r.rowCount)
        for i in 0..<r.rowCount {
            seats.append(SeatState(seatNo: r.string(i, 5)!, row: r.int(i, 6)!, col: r.int(i, 7)!,
                                   status: SeatStatus(name: r.string(i, 8)!) ?? .available, untilMs: r.int64(i, 9)))
        }
        return TripSnapshot(tripId: tripId, name: r.string(0, 0)!, rows: r.int(0, 1)!, cols: r.int(0, 2)!,
                            epoch: r.string(0, 3)!, seq: r.int64(0, 4)!, seats: seats)
    }

    /// The trip's epoch and last seq, or nil for an unknown trip.
    public func position(tripId: String) throws(PGError) -> StreamPosition? {
        let r = try db.exec("SELECT epoch, last_seq FROM trips WHERE trip_id = $1", [tripId])
        guard r.rowCount == 1 else { return nil }
        return StreamPosition(epoch: r.string(0, 0)!, seq: r.int64(0, 1)!)
    }

    /// Events with `seq > afterSeq`, oldest first, at most `limit`.
    public func events(tripId: String, afterSeq: Int64, limit: Int = 10_000) throws(PGError) -> [TripEvent] {
        let r = try db.exec("""
            SELECT seq, seat_no, kind, floor(extract(epoch FROM until) * 1000)::bigint, reason,
                   floor(extract(epoch FROM at) * 1000)::bigint
            FROM seat_events WHERE trip_id = $1 AND seq > $2 ORDER BY seq LIMIT $3
            """, [tripId, String(afterSeq), String(limit)])
        var out: [TripEvent] = []
        out.reserveCapacity(r.rowCount)
        for i in 0..<r.rowCount {
            let kind = TripEvent.Kind(rawValue: r.string(i, 2)!) ?? .released
            out.append(TripEvent(tripId: tripId, seq: r.int64(i, 0)!, seatNo: r.string(i, 1)!, kind: kind,
                                 untilMs: r.int64(i, 3), reason: r.string(i, 4), atMs: r.int64(i, 5)))
        }
        return out
    }

    // MARK: Changes

    /// Runs commands in the current transaction (the caller wraps it) with one call of
    /// `seatcast_apply`, and returns one outcome per command, in order. With `sessions`
    /// (one key per command) single-seat reserves and releases of listed seats run set-wise
    /// ahead of the rest, as far as each session's own order allows (`bulkGroups`).
    /// A best-available reserve may wait here for seats other transactions hold
    /// (`seatcast_best`, phase B).
    ///
    /// `maxHoldMs`: no `extend` moves a hold's `until` past its start + this.
    /// `scopes` (one per command; nil: all `.unrestricted`): whose holds each command may
    /// touch, under which holder a reserve records its seats, and its quota
    /// (`seatcast_apply`'s holder, own, max_held).
    public func apply(_ commands: [Command], sessions: [Int]? = nil, scopes: [HoldScope]? = nil, holdTTLms: Int64,
                      maxHoldMs: Int64 = Schema.defaultMaxHoldMs) throws(PGError) -> [CommandOutcome] {
        try run(commands, sessions: sessions, scopes: scopes, holdTTLms: holdTTLms, maxHoldMs: maxHoldMs, deferWaits: false).map {
            $0 ?? .failed(ProtocolError(.internal, "no answer"))
        }
    }

    /// As `apply`, for a batch of many sessions' commands (`DatabaseWorker`): nothing in it
    /// waits for seats another transaction holds on behalf of a best-available reserve. Such
    /// a reserve, when only locked seats would serve it, is not run: its outcome is nil, and
    /// so are those of its session's later commands, which are not run either. The caller
    /// runs them again, in order, in a transaction of their own after this one commits. (A
    /// batch that waited while holding its earlier commands' seats could deadlock with
    /// another instance's batch doing the same; PostgreSQL then aborts one after a second.)
    func applyDeferringWaits(_ commands: [Command], sessions: [Int], scopes: [HoldScope]? = nil, holdTTLms: Int64,
                             maxHoldMs: Int64 = Schema.defaultMaxHoldMs) throws(PGError) -> [CommandOutcome?] {
        try run(commands, sessions: sessions, scopes: scopes, holdTTLms: holdTTLms, maxHoldMs: maxHoldMs, deferWaits: true)
    }

    private func run(_ commands: [Command], sessions: [Int]?, scopes: [HoldScope]?, holdTTLms: Int64, maxHoldMs: Int64,
                     deferWaits: Bool) throws(PGError) -> [CommandOutcome?] {
        func scope(_ i: Int) -> HoldScope { scopes.flatMap { i < $0.count ? $0[i] : nil } ?? .unrestricted }
        let groups = sessions.map { Self.bulkGroups(commands, sessions: $0) } ?? []
        var w = JSONWriter(reserving: commands.count * 96)
        w.beginArray()
        for (i, c) in commands.enumerated() {
            w.beginObject()
            if i < groups.count, let g = groups[i] { w.field("grp", g) }
            if deferWaits, let sessions, i < sessions.count { w.field("session", String(sessions[i])) }
            switch c {
            case let .reserve(t, .listed(seats), hold):
                w.field("op", "reserve"); w.field("trip", t); w.field("hold", hold); w.field("seats", strings: seats)
            case let .reserve(t, .best(count, together), hold):
                w.field("op", "reserve"); w.field("trip", t); w.field("hold", hold); w.field("count", count)
                w.key("together"); w.bool(together)
                if deferWaits { w.key("wait"); w.bool(false) }
            case let .confirm(t, seats, hold):
                w.field("op", "confirm"); w.field("trip", t); w.field("hold", hold)
                if let seats { w.field("seats", strings: seats) }
            case let .release(t, seats, hold):
                w.field("op", "release"); w.field("trip", t); w.field("hold", hold)
                if let seats { w.field("seats", strings: seats) }
            case let .releaseSeats(t, seats):
                w.field("op", "release_seats"); w.field("trip", t); w.field("seats", strings: seats)
            case let .extend(t, hold, seconds):
                w.field("op", "extend"); w.field("trip", t); w.field("hold", hold)
                if let seconds { w.field("seconds", seconds) }
                w.field("max_hold_ms", maxHoldMs)
            }
            let s = scope(i)
            if let holder = s.holder { w.field("holder", holder) }
            if s.ownHoldsOnly { w.key("own"); w.bool(true) }
            if s.maxHeld > 0, case .reserve = c { w.field("max_held", s.maxHeld) }
            w.endObject()
        }
        w.endArray()
        let r = try db.exec("SELECT idx, outcome, seat_list, until_ms FROM seatcast_apply($1::jsonb, $2::bigint)",
                            [String(decoding: w.bytes, as: UTF8.self), String(holdTTLms)])
        var out = [CommandOutcome?](repeating: .failed(ProtocolError(.internal, "no answer")), count: commands.count)
        for i in 0..<r.rowCount {
            guard let idx = r.int(i, 0), idx >= 0, idx < commands.count, let outcome = r.string(i, 1) else { continue }
            if outcome == "deferred" {
                out[idx] = deferWaits ? nil : .failed(ProtocolError(.internal, "the store could not run this request"))
                continue
            }
            let seats = r.words(i, 2) ?? []
            out[idx] = outcome == "rejected:quota"
                ? Self.overQuota(commands[idx], limit: scope(idx).maxHeld)
                : Self.outcome(outcome, seats: seats, untilMs: r.int64(i, 3), command: commands[idx])
        }
        return out
    }

    /// Which commands may run set-wise, ahead of the batch's others: "r" single-seat
    /// reserves (run first), "x" releases of listed seats (run second), nil the rest (run
    /// last, in order). Requests of different sessions are concurrent, so any order among
    /// them is a valid one; a session's own commands must keep their order, so its group
    /// sequence may only rise, and once a command of it falls to the rest, all later ones do.
    static func bulkGroups(_ commands: [Command], sessions: [Int]) -> [String?] {
        var level: [Int: Int] = [:]
        return commands.enumerated().map { i, c in
            let want: Int
            switch c {
            case let .reserve(_, .listed(seats), _) where seats.count == 1: want = 0
            case .release(_, .some, _): want = 1
            default: want = 2
            }
            let current = level[sessions[i], default: 0]
            let g = want >= current ? want : 2
            level[sessions[i]] = max(current, g)
            return g == 0 ? Schema.BulkGroup.singleSeatReserve : g == 1 ? Schema.BulkGroup.listedRelease : nil
        }
    }

    /// `rejected:quota`: the seats asked for (none for best available) and the quota.
    static func overQuota(_ command: Command, limit: Int) -> CommandOutcome {
        if case let .reserve(_, .listed(seats), _) = command { return .overQuota(seats: seats, limit: limit) }
        return .overQuota(seats: [], limit: limit)
    }

    static func outcome(_ s: String, seats: [String], untilMs: Int64?, command: Command) -> CommandOutcome {
        switch s {
        case "reserved": return .reserved(seats: seats, untilMs: untilMs ?? 0)
        case "extended": return .extended(seats: seats, untilMs: untilMs ?? 0)
        case "confirmed": return .confirmed(seats: seats)
        case "released": return .released(seats: seats)
        default: break
        }
        if s.hasPrefix("rejected:") {
            return .rejected(RejectReason(String(s.dropFirst(9))), seats: seats)
        }
        let code = ErrorCode(s.hasPrefix("error:") ? String(s.dropFirst(6)) : "internal")
        switch code {
        case .unknownTrip: return .failed(ProtocolError(code, "unknown trip \"\(command.tripId)\""))
        case .unknownSeat:
            return .failed(ProtocolError(code, "unknown seat\(seats.count > 1 ? "s" : "") \(seats.joined(separator: ", ")) on trip \"\(command.tripId)\""))
        default: return .failed(ProtocolError(code, "the store could not run this request"))
        }
    }
}
