import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

// Owns: the tests of the backend's powers in the store: release_seats (Command.releaseSeats)
// and creating/deleting trips through PostgresBackend.

@Suite("Backend release and trips")
struct ReleaseSeatsTests {
    /// release_seats frees held and booked seats whoever holds them and leaves available ones alone: the answer lists the seats freed (row/column order), each gets a seat_released event (reason released; expired for a hold that had run out), bookings and owners go, the audit stays clean and the outbox replays to the seats.
    @Test func freesHeldAndBookedSeats() throws {
        let (db, trip) = try quietConnectionAndFreshTrip()
        let initial = try TestDatabase.quiet.snapshot(trip)
        let u = buyer(newHolder())
        let h = newHold(), g = newHold()
        _ = try apply(db, [.reserve(tripId: trip, seats: ["1A", "1B", "2A"], hold: h)], u)
        _ = try apply(db, .confirm(tripId: trip, seats: ["1B"], hold: h), u)
        _ = try apply(db, .reserve(tripId: trip, seats: ["3C"], hold: g))
        try expireHold(db, trip, "3C")
        let seq = try lastSeq(db, trip)

        let out = try apply(db, .releaseSeats(tripId: trip, seats: ["3C", "1B", "4D", "1A"]))
        #expect(out == .released(seats: ["1A", "1B", "3C"]))
        let events = try SeatStore(db).events(tripId: trip, afterSeq: seq)
        #expect(events.map { "\($0.seatNo) \($0.kind) \($0.reason ?? "-")" } == ["1A released released", "1B released released", "3C released expired"])
        for s in ["1A", "1B", "3C", "4D"] {
            #expect(try seatRow(db, trip, s).status == "available")
            #expect(try holdOwner(db, trip, s) == nil)
        }
        #expect(try seatRow(db, trip, "2A").status == "held")
        #expect(try db.exec("SELECT count(*) FROM bookings WHERE trip_id = $1", [trip]).int(0, 0) == 0)
        #expect(try db.exec("SELECT count(*) FROM seatcast_audit($1)", [trip]).int(0, 0) == 0)
        let map = replay(initial, try allEvents(db, trip))
        #expect(map.snapshot.seats.map(\.status) == (try TestDatabase.quiet.snapshot(trip)).seats.map(\.status))
        // Nothing left to free: released, no seats, no events.
        #expect(try apply(db, .releaseSeats(tripId: trip, seats: ["1A"])) == .released(seats: []))
        #expect(try lastSeq(db, trip) == seq + 3)
        // The seat is free for anyone again; the old hold holds nothing.
        #expect(try apply(db, .confirm(tripId: trip, seats: ["1A"], hold: h), u) == .rejected(.notHeld, seats: ["1A"]))
    }

    /// An unknown seat or trip is refused before anything changes.
    @Test func unknownNamesChangeNothing() throws {
        let (db, trip) = try connectionAndFreshTrip()
        _ = try apply(db, .reserve(tripId: trip, seats: ["1A"], hold: newHold()))
        let rows = try seatRows(db, trip), seq = try lastSeq(db, trip)
        let bad = try apply(db, .releaseSeats(tripId: trip, seats: ["1A", "99Z", "98Y"]))
        #expect(bad == .failed(ProtocolError(.unknownSeat, "unknown seats 99Z, 98Y on trip \"\(trip)\"")))
        #expect(failureCode(try apply(db, .releaseSeats(tripId: "no-such-trip", seats: ["1A"]))) == .unknownTrip)
        #expect(try seatRows(db, trip) == rows)
        #expect(try lastSeq(db, trip) == seq)
    }

    /// Through PostgresBackend: a batch mixing buyers' commands with a release_seats (the writer's batches) and a trip created, used and deleted on the writer, in the order queued: a reserve queued before the delete is reserved, one queued after it meets an unknown trip; the trip's seats and history are gone.
    @Test func throughTheBackend() throws {
        let b = SyncBackend()
        defer { b.stop() }
        let id = "ct-" + UUID().uuidString.prefix(8)
        #expect(try b.createTrip(id: id, name: "Created", rows: 3, cols: 4) == .success(true))
        #expect(try b.createTrip(id: id, name: "Again", rows: 2, cols: 2) == .success(false))
        #expect(try TestDatabase.shared.snapshot(id).seats.count == 12)
        for (rows, cols, name, tripId) in [(0, 4, "x", id + "x"), (1001, 1, "x", id + "x"), (1000, 101, "x", id + "x"),
                                           (2, 2, "", id + "x"), (2, 2, String(repeating: "n", count: 201), id + "x"),
                                           (2, 2, "x", "bad id")] {
            guard case let .failure(e) = try b.createTrip(id: tripId, name: name, rows: rows, cols: cols) else {
                Issue.record("created \(tripId) \(rows)x\(cols)"); continue
            }
            #expect(e.code == .badRequest)
        }
        #expect(try TestDatabase.shared.sql("SELECT count(*) FROM trips WHERE trip_id = $1", [id + "x"]).int(0, 0) == 0)

        let u = buyer(newHolder(), max: 10)
        #expect(reservedUntil(try b.run(.reserve(tripId: id, seats: ["1A"], hold: newHold()), scope: u)) != nil)
        #expect(try b.run(.releaseSeats(tripId: id, seats: ["1A", "1B"])) == .released(seats: ["1A"]))

        // Queued together: reserve, delete, reserve.
        let answers = Shared<[String]>([])
        let done = DispatchGroup()
        for _ in 0..<3 { done.enter() }
        b.backend.execute(.reserve(tripId: id, seats: ["2B"], hold: newHold()), session: 7, scope: u) { o in
            answers.update { $0.append(reservedUntil(o) != nil ? "reserved" : "\(o)") }; done.leave()
        }
        b.backend.deleteTrip(id: id) { r in answers.update { $0.append("deleted \(r)") }; done.leave() }
        b.backend.execute(.reserve(tripId: id, seats: ["2C"], hold: newHold()), session: 8, scope: u) { o in
            answers.update { $0.append("\(failureCode(o).map { "\($0)" } ?? "\(o)")") }; done.leave()
        }
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(answers.value == ["reserved", "deleted success(true)", "\(ErrorCode.unknownTrip)"])
        #expect(try b.deleteTrip(id: id) == .success(false))
        #expect(try b.deleteTrip(id: "bad id") == .success(false))
        for table in ["seats", "seat_events", "bookings", "expired_holds"] {
            #expect(try TestDatabase.shared.sql("SELECT count(*) FROM \(table) WHERE trip_id = $1", [id]).int(0, 0) == 0)
        }
    }

    /// The trip checks of POST /api/trips are the CLI's: id syntax, rows and columns 1-1000, at most 100,000 seats, a name of 1-200 characters.
    @Test func tripProblems() {
        #expect(PostgresBackend.tripProblem(id: "T1", name: "Trip", rows: 1000, cols: 100) == nil)
        #expect(PostgresBackend.tripProblem(id: "T1", name: String(repeating: "é", count: 200), rows: 1, cols: 1) == nil)
        #expect(PostgresBackend.tripProblem(id: "T 1", name: "Trip", rows: 1, cols: 1) != nil)
        #expect(PostgresBackend.tripProblem(id: String(repeating: "a", count: 65), name: "Trip", rows: 1, cols: 1) != nil)
        #expect(PostgresBackend.tripProblem(id: "T1", name: "Trip", rows: 0, cols: 1) != nil)
        #expect(PostgresBackend.tripProblem(id: "T1", name: "Trip", rows: 1, cols: 1001) != nil)
        #expect(PostgresBackend.tripProblem(id: "T1", name: "Trip", rows: 1000, cols: 101) != nil)
        #expect(PostgresBackend.tripProblem(id: "T1", name: "", rows: 1, cols: 1) != nil)
        #expect(PostgresBackend.tripProblem(id: "T1", name: "a\u{0}b", rows: 1, cols: 1) != nil)
        #expect(PostgresBackend.tripProblem(id: "T1", name: String(repeating: "e\u{301}", count: 101), rows: 1, cols: 1) != nil)
    }
}
