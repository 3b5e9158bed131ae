import Testing
@testable import SeatcastCore

// The compact snapshot (docs/PROTOCOL.md "Compact snapshot"): its exact bytes, that it says
// the same as the full snapshot seat by seat, when it is offered, and that the
// subscription machine sends each subscriber the form it asked for, shared per `seq`, in
// answers, resyncs, reloads and failed resumes alike.

@Suite("CompactSnapshot")
struct CompactSnapshotTests {
    /// A rows x cols grid as `createTrip` makes it, statuses from `status(i)`.
    static func grid(rows: Int, cols: Int, seq: Int64 = 41, _ status: (Int) -> SeatStatus = { _ in .available }) -> TripSnapshot {
        var seats: [SeatState] = []
        for r in 1...rows {
            for c in 1...cols {
                let i = seats.count
                let st = status(i)
                seats.append(SeatState(seatNo: SeatNumbering.seatNo(row: r, col: c, cols: cols), row: r, col: c, status: st,
                                       untilMs: st == .held ? 1_795_289_400_000 + Int64(i) : nil))
            }
        }
        return TripSnapshot(tripId: "T1", name: "Accra - Kumasi 08:00", rows: rows, cols: cols, epoch: "k3f9", seq: seq, seats: seats)
    }

    static func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    /// The contract's example, byte for byte: 12 x 5, seat 1B (index 1) held, 1D booked.
    @Test func goldenFrame() {
        let s = Self.grid(rows: 12, cols: 5) { $0 == 1 ? .held : $0 == 3 ? .booked : .available }
        let expected = #"{"type":"snapshot","tripId":"T1","name":"Accra - Kumasi 08:00","epoch":"k3f9","seq":41,"rows":12,"cols":5,"#
            + #""compact":true,"status":"ahab"# + String(repeating: "a", count: 56) + #"","until":{"1":"2026-11-21T19:30:00.001Z"}}"#
        #expect(Self.text(CompactSnapshot.encode(s)) == expected)
        let empty = Self.grid(rows: 1, cols: 2)
        #expect(Self.text(CompactSnapshot.encode(empty)) == #"{"type":"snapshot","tripId":"T1","name":"Accra - Kumasi 08:00","epoch":"k3f9","seq":41,"rows":1,"cols":2,"compact":true,"status":"aa","until":{}}"#)
        // A framed copy: the same payload behind a WebSocket header, as the server sends it.
        let f = Frame(CompactSnapshot.encode(s), stream: true, tripId: "T1")
        #expect(f.text == expected)
    }

    /// Compact and full say the same, seat by seat, for narrow (`12C`) and wide (`12-40`) trips.
    @Test(arguments: [(3, 4), (12, 5), (7, 26), (5, 40), (250, 200)])
    func agreesWithFull(rows: Int, cols: Int) throws {
        var rng = SplitMix64(seed: UInt64(rows * 1000 + cols))
        let s = Self.grid(rows: rows, cols: cols) { _ in [SeatStatus.available, .held, .booked][Int(rng.next() % 3)] }
        #expect(CompactSnapshot.isGrid(s))
        let compact = try #require(CompactSnapshot.decode(try JSON.parse(Self.text(CompactSnapshot.encode(s)))))
        let fullJSON = try JSON.parse(Self.text(Messages.snapshot(s)))
        #expect(compact == s)
        // The full form's own seats, read back, agree too (names, positions, status, until).
        let full = try #require(fullJSON["seats"]?.arrayValue)
        #expect(full.count == compact.seats.count)
        for (i, seat) in full.enumerated() {
            #expect(seat["seatNo"]?.stringValue == compact.seats[i].seatNo)
            #expect(seat["status"]?.stringValue == compact.seats[i].status.name)
            #expect(seat["until"]?.stringValue.flatMap(Timestamp.parse) == compact.seats[i].untilMs)
        }
    }

    /// 50,000 seats fit the issue's budget of 100 KB even with 2,000 held seats.
    @Test func sizeAtFiftyThousand() {
        let s = Self.grid(rows: 500, cols: 100) { $0 % 25 == 0 ? .held : $0 % 3 == 0 ? .booked : .available }
        let n = CompactSnapshot.encode(s).count
        #expect(n < 100_000 + 2_000 * 40)
        let none = Self.grid(rows: 500, cols: 100) { $0 % 3 == 0 ? .booked : .available }
        #expect(CompactSnapshot.encode(none).count < 50_200)
        print("compact 50,000 seats: \(CompactSnapshot.encode(none).count) bytes none held, \(n) bytes with 2,000 held; full: \(Messages.snapshot(s).count) bytes")
    }

    /// Only the exact grid, row-major, with `SeatNumbering` names is offered compact.
    @Test func onlyExactGrids() {
        var s = Self.grid(rows: 3, cols: 4)
        #expect(CompactSnapshot.isGrid(s))
        var missing = s
        missing.seats.remove(at: 5)
        #expect(!CompactSnapshot.isGrid(missing))
        var renamed = s
        renamed.seats[2].seatNo = "X9"
        #expect(!CompactSnapshot.isGrid(renamed))
        var extra = s
        extra.seats.append(SeatState(seatNo: "4A", row: 4, col: 1, status: .available))
        #expect(!CompactSnapshot.isGrid(extra))
        s.seats.swapAt(0, 1)
        #expect(!CompactSnapshot.isGrid(s))
        // Asked for compact, such a trip gets the full form.
        #expect(CompactSnapshot.encodeIfGrid(missing) == Messages.snapshot(missing))
    }

    @Test func decoderReadsCompactFlag() throws {
        let r = try RequestDecoder().decode(Array(#"{"type":"subscribe","tripId":"T1","compact":true}"#.utf8)).get()
        #expect(r == Request(.subscribe(tripId: "T1", since: nil), compact: true))
        let plain = try RequestDecoder().decode(Array(#"{"type":"subscribe","tripId":"T1","compact":false}"#.utf8)).get()
        #expect(!plain.compact)
        guard case let .failure(e) = RequestDecoder().decode(Array(#"{"type":"subscribe","tripId":"T1","compact":1}"#.utf8)) else {
            Issue.record("compact:1 accepted"); return
        }
        #expect(e.code == .badRequest)
    }
}

@Suite("SubscriptionMachine compact")
struct SubscriptionMachineCompactTests {
    let a = TestSubscriber("a"), b = TestSubscriber("b"), c = TestSubscriber("c")

    static func isCompact(_ f: Frame?) -> Bool { f.map { frameJSON($0)["compact"] == .bool(true) } ?? false }

    /// Each subscriber gets its form; compact subscribers share one frame per seq, built lazily.
    @Test func eachGetsItsFormSharedPerSeq() {
        let h = SubscriptionHarness()
        h.subscribe(a, compact: true)
        h.subscribe(b)
        let first = h.snapshotFrames { h.m.snapshotLoaded("T", .success(tripSnapshot(seq: 10)), into: &$0) }
        #expect(Self.isCompact(first["a"]))
        #expect(!Self.isCompact(first["b"]))
        let second = h.snapshotFrames { h.m.subscribe(c, to: "T", since: nil, id: nil, compact: true, into: &$0) }
        #expect(second["c"] === first["a"])
        h.record(11)
        let third = h.snapshotFrames { h.m.subscribe(c, to: "T", since: nil, id: nil, compact: true, into: &$0) }
        #expect(third["c"] !== first["a"])
        #expect(frameJSON(third["c"]!)["seq"]?.int64Value == 11)
        #expect(frameJSON(third["c"]!)["status"]?.stringValue == "haaaaaaa")
        // A later subscribe without compact goes back to the full form.
        let fourth = h.snapshotFrames { h.m.subscribe(c, to: "T", since: nil, id: nil, into: &$0) }
        #expect(!Self.isCompact(fourth["c"]))
        #expect(h.m.snapshot("T", compact: true) === third["c"])
    }

    /// A slow client's resync, a reload and a resume whose history is gone use the form asked for.
    @Test func resyncReloadAndResumeKeepTheForm() {
        let h = SubscriptionHarness(ring: 2)
        h.subscribe(a, compact: true)
        h.subscribe(b)
        h.loaded(seq: 10)
        #expect(Self.isCompact(h.m.resyncSnapshot(for: a, tripId: "T")))
        #expect(!Self.isCompact(h.m.resyncSnapshot(for: b, tripId: "T")))
        h.reload()
        let reloaded = h.snapshotFrames { h.m.snapshotLoaded("T", .success(tripSnapshot(seq: 12)), into: &$0) }
        #expect(Self.isCompact(reloaded["a"]))
        #expect(!Self.isCompact(reloaded["b"]))
        // Resume with compact, from older than the ring: the outbox read answers "history gone".
        h.recordAll(13...16)
        h.subscribe(c, since: ("ep1", 12), compact: true)
        let gone = h.snapshotFrames { h.m.outboxLoaded(c, tripId: "T", token: h.token(c)!, .success(nil), into: &$0) }
        #expect(Self.isCompact(gone["c"]))
        #expect(frameJSON(gone["c"]!)["seq"]?.int64Value == 16)
        // Another epoch: a compact snapshot at once.
        let other = h.snapshotFrames { h.m.subscribe(c, to: "T", since: StreamPosition(epoch: "old", seq: 3), id: nil, compact: true, into: &$0) }
        #expect(Self.isCompact(other["c"]))
        // Leaving forgets the choice.
        h.unsubscribe(c)
        #expect(h.hub?.compactSubscribers.contains(ObjectIdentifier(c)) == false)
    }

    /// A trip that is not a plain grid answers compact subscribers with the full form.
    @Test func notAGridGetsFull() {
        let h = SubscriptionHarness()
        h.subscribe(a, compact: true)
        var snap = tripSnapshot(seq: 5)
        snap.seats.removeLast()
        let f = h.snapshotFrames { h.m.snapshotLoaded("T", .success(snap), into: &$0) }
        #expect(!Self.isCompact(f["a"]))
        #expect(frameJSON(f["a"]!)["seats"]?.arrayValue?.count == 7)
    }
}

