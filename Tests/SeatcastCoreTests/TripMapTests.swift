import Testing
@testable import SeatcastCore

private let until: Int64 = 1_795_289_400_000

private func makeMap(seq: Int64 = 41) -> TripMap {
    TripMap(TripSnapshot(tripId: "T1", name: "Accra - Kumasi 08:00", rows: 1, cols: 4, epoch: "k3f9", seq: seq, seats: [
        SeatState(seatNo: "1A", row: 1, col: 1, status: .available),
        SeatState(seatNo: "1B", row: 1, col: 2, status: .held, untilMs: until),
        SeatState(seatNo: "1C", row: 1, col: 3, status: .booked),
        SeatState(seatNo: "1D", row: 1, col: 4, status: .available),
    ]))
}

@Suite("TripMap")
struct TripMapTests {
    /// A new map exposes the snapshot's trip, epoch, seq, seats and available count.
    @Test func initialState() {
        let m = makeMap()
        #expect(m.tripId == "T1")
        #expect(m.epoch == "k3f9")
        #expect(m.seq == 41)
        #expect(m.availableCount == 2)
        #expect(m.seat("1B") == SeatState(seatNo: "1B", row: 1, col: 2, status: .held, untilMs: until))
        #expect(m.seat("9Z") == nil)
    }

    /// The next event is applied: a lock holds the seat with its `until` and advances `seq`.
    @Test func applyLock() {
        var m = makeMap()
        #expect(m.apply(TripEvent(tripId: "T1", seq: 42, seatNo: "1A", kind: .locked, untilMs: until)) == .applied)
        #expect(m.seq == 42)
        #expect(m.seat("1A")?.status == .held)
        #expect(m.seat("1A")?.untilMs == until)
        #expect(m.availableCount == 1)
        #expect(m.snapshot.seq == 42)
    }

    /// A release makes the seat available and clears `until`.
    @Test func applyRelease() {
        var m = makeMap()
        #expect(m.apply(TripEvent(tripId: "T1", seq: 42, seatNo: "1B", kind: .released, reason: "expired")) == .applied)
        #expect(m.seat("1B") == SeatState(seatNo: "1B", row: 1, col: 2, status: .available, untilMs: nil))
        #expect(m.availableCount == 3)
    }

    /// A booking books the seat and clears `until`.
    @Test func applyBooked() {
        var m = makeMap()
        #expect(m.apply(TripEvent(tripId: "T1", seq: 42, seatNo: "1B", kind: .booked)) == .applied)
        #expect(m.seat("1B") == SeatState(seatNo: "1B", row: 1, col: 2, status: .booked, untilMs: nil))
        #expect(m.availableCount == 2)
    }

    /// A re-lock of a held seat updates its `until`.
    @Test func relockUpdatesUntil() {
        var m = makeMap()
        #expect(m.apply(TripEvent(tripId: "T1", seq: 42, seatNo: "1B", kind: .locked, untilMs: until + 60_000)) == .applied)
        #expect(m.seat("1B")?.untilMs == until + 60_000)
    }

    /// A sequence of consecutive events is applied in order, each advancing `seq` by one.
    @Test func sequence() {
        var m = makeMap()
        let events = [
            TripEvent(tripId: "T1", seq: 42, seatNo: "1A", kind: .locked, untilMs: until),
            TripEvent(tripId: "T1", seq: 43, seatNo: "1B", kind: .released, reason: "released"),
            TripEvent(tripId: "T1", seq: 44, seatNo: "1A", kind: .booked),
            TripEvent(tripId: "T1", seq: 45, seatNo: "1D", kind: .locked, untilMs: until),
        ]
        for (n, e) in events.enumerated() {
            #expect(m.apply(e) == .applied)
            #expect(m.seq == 42 + Int64(n))
        }
        #expect(m.snapshot.seats.map(\.status) == [.booked, .available, .booked, .held])
        #expect(m.availableCount == 1)
    }

    /// An event the map cannot take changes nothing: at or below `seq` it is stale, past `seq + 1` a gap, for a seat the trip lacks `unknownSeat` (seq is checked before the seat).
    @Test(arguments: [
        (Int64(41), "1A", TripMap.ApplyResult.stale), (40, "1A", .stale), (0, "1A", .stale), (-1, "1A", .stale),
        (43, "1A", .gap), (44, "1A", .gap), (1000, "1A", .gap),
        (42, "9Z", .unknownSeat), (41, "9Z", .stale), (50, "9Z", .gap),
    ])
    func refused(seq: Int64, seatNo: String, result: TripMap.ApplyResult) {
        var m = makeMap()
        let before = m.snapshot
        #expect(m.apply(TripEvent(tripId: "T1", seq: seq, seatNo: seatNo, kind: .locked, untilMs: until)) == result)
        #expect(m.snapshot == before)
    }

    /// Applying the same event twice is applied then stale.
    @Test func duplicateIsStale() {
        var m = makeMap()
        let e = TripEvent(tripId: "T1", seq: 42, seatNo: "1A", kind: .booked)
        #expect(m.apply(e) == .applied)
        #expect(m.apply(e) == .stale)
        #expect(m.seq == 42)
    }

    /// A map built from an empty trip at seq 0 accepts seq 1 and has no available seats.
    @Test func emptyTrip() {
        var m = TripMap(TripSnapshot(tripId: "E", name: "", rows: 0, cols: 0, epoch: "e", seq: 0, seats: []))
        #expect(m.availableCount == 0)
        #expect(m.apply(TripEvent(tripId: "E", seq: 1, seatNo: "1A", kind: .booked)) == .unknownSeat)
        #expect(m.seq == 0)
    }

    /// Applying the events of a run to a snapshot reproduces the later snapshot (docs/PROTOCOL.md semantics 5).
    @Test func snapshotPlusEventsEqualsLaterSnapshot() {
        var m = makeMap()
        _ = m.apply(TripEvent(tripId: "T1", seq: 42, seatNo: "1A", kind: .locked, untilMs: until))
        _ = m.apply(TripEvent(tripId: "T1", seq: 43, seatNo: "1B", kind: .released, reason: "expired"))
        _ = m.apply(TripEvent(tripId: "T1", seq: 44, seatNo: "1A", kind: .booked))
        let later = TripSnapshot(tripId: "T1", name: "Accra - Kumasi 08:00", rows: 1, cols: 4, epoch: "k3f9", seq: 44, seats: [
            SeatState(seatNo: "1A", row: 1, col: 1, status: .booked),
            SeatState(seatNo: "1B", row: 1, col: 2, status: .available),
            SeatState(seatNo: "1C", row: 1, col: 3, status: .booked),
            SeatState(seatNo: "1D", row: 1, col: 4, status: .available),
        ])
        #expect(m.snapshot == later)
        #expect(Messages.snapshot(m.snapshot) == Messages.snapshot(later))
    }
}
