import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

@Suite("SeatStore trips")
struct SeatStoreTripTests {
    /// A 12x4 trip has seats 1A..12D in row-major order, all available, at seq 0 with an epoch.
    @Test func createNarrowTrip() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 12, cols: 4, name: "Accra - Kumasi 08:00")
        let s = try TestDatabase.shared.snapshot(trip)
        #expect(s.tripId == trip)
        #expect(s.name == "Accra - Kumasi 08:00")
        #expect(s.rows == 12 && s.cols == 4)
        #expect(s.seq == 0)
        #expect(s.epoch.count == 8)
        #expect(s.seats.count == 48)
        #expect(s.seats.map(\.seatNo) == seatNames(rows: 12, cols: 4))
        #expect(s.seats.first?.seatNo == "1A")
        #expect(s.seats.last?.seatNo == "12D")
        #expect(s.seats.allSatisfy { $0.status == .available && $0.untilMs == nil })
        #expect(s.seats.map { [$0.row, $0.col] } == (1...12).flatMap { r in (1...4).map { [r, $0] } })
    }

    /// A trip wider than 26 columns names its seats `row-col`: 2x27 gives 1-1..2-27.
    @Test func createWideTrip() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 2, cols: 27)
        let s = try TestDatabase.shared.snapshot(trip)
        #expect(s.seats.count == 54)
        #expect(s.seats.first?.seatNo == "1-1")
        #expect(s.seats[26].seatNo == "1-27")
        #expect(s.seats[27].seatNo == "2-1")
        #expect(s.seats.last?.seatNo == "2-27")
        #expect(s.seats.map(\.seatNo) == (1...2).flatMap { r in (1...27).map { "\(r)-\($0)" } })
        #expect(s.seats.allSatisfy { $0.status == .available })
    }

    /// Creating a trip whose id exists answers `.exists` and leaves the first trip untouched.
    @Test func createTwiceAnswersExists() throws {
        let db = try TestDatabase.shared.connect()
        let store = SeatStore(db)
        let id = TestDatabase.uniqueTripId()
        #expect(try store.createTrip(id: id, name: "First", rows: 2, cols: 2) == .created)
        let before = try #require(try store.snapshot(tripId: id))
        #expect(try store.createTrip(id: id, name: "Second", rows: 5, cols: 5) == .exists)
        let after = try #require(try store.snapshot(tripId: id))
        #expect(after == before)
        #expect(after.name == "First")
        #expect(after.seats.count == 4)
    }

    /// Unknown trips have no snapshot and no position; known ones start at seq 0 with the snapshot's epoch.
    @Test func positionAndUnknownTrip() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 1, cols: 1)
        let store = SeatStore(try TestDatabase.shared.connect())
        #expect(try store.snapshot(tripId: "no-such-trip-\(UInt32.random(in: 0...UInt32.max))") == nil)
        #expect(try store.position(tripId: "no-such-trip-\(UInt32.random(in: 0...UInt32.max))") == nil)
        let s = try TestDatabase.shared.snapshot(trip)
        #expect(try store.position(tripId: trip) == StreamPosition(epoch: s.epoch, seq: 0))
    }

    /// The trip list counts seats and available seats per trip.
    @Test func tripListCounts() throws {
        let db = try TestDatabase.shared.connect()
        let trip = try TestDatabase.shared.createTrip(rows: 3, cols: 3, name: "Counted")
        _ = try apply(db, .reserve(tripId: trip, seats: ["1A", "2B"], hold: newHold()))
        let row = try SeatStore(db).trips().first { $0.tripId == trip }
        #expect(row == TripSummary(tripId: trip, name: "Counted", seats: 9, available: 7))
    }
}
