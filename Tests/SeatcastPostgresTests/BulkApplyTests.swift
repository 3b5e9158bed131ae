import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

@Suite struct BulkApplyTests {
    /// A random batch run set-wise (single-seat reserves and listed releases in bulk) gives exactly the outcomes, events and seats of running it one command at a time.
    @Test(arguments: [1, 2, 3, 4, 5])
    func bulkEqualsSequential(seed: Int) throws {
        let db = TestDatabase.shared
        var rng = SplitMix64(seed: UInt64(seed))
        // 8 sessions, each with its own hold and its own row of seats, so no order among
        // sessions changes any outcome (races for one seat are in sessionOrderIsKept and in
        // the server suites: there the winner may legitimately differ).
        let letters = ["A", "B", "C", "D"]
        var commands: [Command] = []
        var sessions: [Int] = []
        for _ in 0..<300 {
            let s = Int(rng.next() % 8)
            let hold = "bulk-session-hold-\(s)-\(seed)"
            let own = (0..<Int(rng.next() % 3 + 1)).map { _ in "\(s + 1)\(letters[Int(rng.next() % 4)])" }
            let seats = Array(Set(own)).sorted()
            let c: Command
            switch rng.next() % 9 {
            case 0, 1, 2: c = .reserve(tripId: "", seats: [seats[0]], hold: hold)
            case 3: c = .reserve(tripId: "", seats: [seats[seats.count - 1]], hold: hold)
            case 4: c = .reserve(tripId: "", seats: .listed(seats), hold: hold)
            case 5, 6: c = .release(tripId: "", seats: seats, hold: hold)
            case 7: c = .release(tripId: "", seats: nil, hold: hold)
            default: c = .confirm(tripId: "", seats: rng.next() % 2 == 0 ? nil : [seats[0]], hold: hold)
            }
            commands.append(c)
            sessions.append(s)
        }
        func on(_ trip: String) -> [Command] { commands.map { $0.on(trip) } }
        let bulkTrip = try db.createTrip(), seqTrip = try db.createTrip()
        let conn = try db.connect()
        let store = SeatStore(conn)
        var bulk: [CommandOutcome] = [], seq: [CommandOutcome] = []
        // In chunks, as the writer would batch them.
        for chunk in stride(from: 0, to: commands.count, by: 60) {
            let r = chunk..<min(chunk + 60, commands.count)
            bulk += try conn.transaction { () throws(PGError) in
                try store.apply(Array(on(bulkTrip)[r]), sessions: Array(sessions[r]), holdTTLms: 60_000)
            }
            seq += try conn.transaction { () throws(PGError) in
                try store.apply(Array(on(seqTrip)[r]), holdTTLms: 60_000)
            }
        }
        #expect(bulk.count == seq.count)
        for (i, (a, b)) in zip(bulk, seq).enumerated() {
            #expect(Self.normalized(a) == Self.normalized(b), "command \(i): \(commands[i]) -> \(a) vs \(b)")
        }
        let a = try db.snapshot(bulkTrip), b = try db.snapshot(seqTrip)
        #expect(a.seats.map { "\($0.seatNo):\($0.status)" } == b.seats.map { "\($0.seatNo):\($0.status)" })
        #expect(a.seq == b.seq)
        let ea = try store.events(tripId: bulkTrip, afterSeq: 0), eb = try store.events(tripId: seqTrip, afterSeq: 0)
        #expect(Set(ea.map { "\($0.seatNo):\($0.kind)" }).count == Set(eb.map { "\($0.seatNo):\($0.kind)" }).count)
        // Replaying each trip's outbox gives its seats.
        var map = TripMap(TripSnapshot(tripId: bulkTrip, name: "", rows: 12, cols: 4, epoch: a.epoch, seq: 0,
                                       seats: a.seats.map { SeatState(seatNo: $0.seatNo, row: $0.row, col: $0.col, status: .available) }))
        for e in ea { #expect(map.apply(e) == .applied) }
        #expect(map.snapshot.seats.map(\.status) == a.seats.map(\.status))
    }

    /// With holders, "own" and small quotas (so that quota rejections happen inside batches, and part 0 sends some batches one by one), the set-wise run still gives exactly the outcomes, events and seats of running one command at a time. Each session acts on its own row under its own holders (two buyers sharing one hold token in some sessions, so "own" decides), so no order among sessions matters; holders are per trip, as a quota counts every trip.
    @Test(arguments: [1, 2, 3, 4, 5])
    func bulkEqualsSequentialWithHolders(seed: Int) throws {
        let db = TestDatabase.shared
        var rng = SplitMix64(seed: UInt64(seed) &+ 100)
        let letters = ["A", "B", "C", "D"]
        var commands: [Command] = [], sessions: [Int] = [], who: [Int] = []
        for _ in 0..<360 {
            let s = Int(rng.next() % 8)
            let hold = "bulk-holder-hold-\(s)-\(seed)"
            let own = (0..<Int(rng.next() % 3 + 1)).map { _ in "\(s + 1)\(letters[Int(rng.next() % 4)])" }
            let seats = Array(Set(own)).sorted()
            let c: Command
            switch rng.next() % 10 {
            case 0, 1, 2: c = .reserve(tripId: "", seats: [seats[0]], hold: hold)
            case 3: c = .reserve(tripId: "", seats: [seats[seats.count - 1]], hold: hold)
            case 4: c = .reserve(tripId: "", seats: .listed(seats), hold: hold)
            case 5: c = .release(tripId: "", seats: seats, hold: hold)
            case 6: c = .release(tripId: "", seats: nil, hold: hold)
            case 7: c = .extend(tripId: "", hold: hold, seconds: 30)
            case 8: c = .releaseSeats(tripId: "", seats: [seats[0]])
            default: c = .confirm(tripId: "", seats: rng.next() % 2 == 0 ? nil : [seats[0]], hold: hold)
            }
            commands.append(c)
            sessions.append(s)
            who.append(Int(rng.next() % 2))
        }
        // Sessions 0-1: buyers, quota 2; 2-3: open mode, quota 3; 4-5: buyers, no quota; 6: the
        // backend; 7: a buyer with quota 10 (never reached in one round: set-wise).
        func scope(_ i: Int, _ trip: String) -> HoldScope {
            let s = sessions[i], key = "\(trip)-\(s)-\(who[i])"
            switch s {
            case 0, 1: return buyer(key, max: 2)
            case 2, 3: return openConnection("~" + key, max: 3)
            case 4, 5: return buyer(key)
            case 6: return .unrestricted
            default: return buyer("\(trip)-\(s)", max: 10)
            }
        }
        func on(_ trip: String, _ r: Range<Int>) -> [Command] { commands[r].map { $0.on(trip) } }
        let bulkTrip = try db.createTrip(), seqTrip = try db.createTrip()
        let conn = try db.connect()
        let store = SeatStore(conn)
        var bulk: [CommandOutcome] = [], seq: [CommandOutcome] = []
        for chunk in stride(from: 0, to: commands.count, by: 60) {
            let r = chunk..<min(chunk + 60, commands.count)
            bulk += try conn.transaction { () throws(PGError) in
                try store.apply(on(bulkTrip, r), sessions: Array(sessions[r]), scopes: r.map { scope($0, bulkTrip) }, holdTTLms: 60_000)
            }
            seq += try conn.transaction { () throws(PGError) in
                try store.apply(on(seqTrip, r), scopes: r.map { scope($0, seqTrip) }, holdTTLms: 60_000)
            }
        }
        for (i, (a, b)) in zip(bulk, seq).enumerated() {
            #expect(Self.normalized(a) == Self.normalized(b), "command \(i): \(commands[i]) \(sessions[i]) -> \(a) vs \(b)")
        }
        // The workload met the quota, and "own" refused another buyer's hold.
        #expect(seq.contains { if case .overQuota = $0 { true } else { false } })
        #expect(seq.contains { if case .rejected(.notHeld, _) = $0 { true } else { false } })
        let a = try db.snapshot(bulkTrip), b = try db.snapshot(seqTrip)
        #expect(a.seats.map { "\($0.seatNo):\($0.status)" } == b.seats.map { "\($0.seatNo):\($0.status)" })
        #expect(a.seq == b.seq)
        func owners(_ trip: String) throws -> [String] {
            try tableRows(conn, "(SELECT seat_no, replace(hold_owner, '\(trip)', '') FROM seats WHERE trip_id = '\(trip)')")
        }
        #expect(try owners(bulkTrip) == owners(seqTrip))
        let ea = try store.events(tripId: bulkTrip, afterSeq: 0), eb = try store.events(tripId: seqTrip, afterSeq: 0)
        #expect(ea.map { "\($0.seatNo) \($0.kind) \($0.reason ?? "-")" }.sorted() == eb.map { "\($0.seatNo) \($0.kind) \($0.reason ?? "-")" }.sorted())
    }

    /// A buyer over its quota inside group r: part 0 runs the batch one by one, so the answers are those of running in order (reserved, reserved, quota, and the session's later release still after its reserves).
    @Test func quotaInsideTheSingleSeatGroup() throws {
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        let conn = try db.connect()
        let store = SeatStore(conn)
        let u = buyer(newHolder(), max: 2)
        let h = newHold()
        let batch: [Command] = [
            .reserve(tripId: trip, seats: ["1A"], hold: h), .reserve(tripId: trip, seats: ["1B"], hold: h),
            .reserve(tripId: trip, seats: ["1C"], hold: h), .release(tripId: trip, seats: ["1A"], hold: h),
            .reserve(tripId: trip, seats: ["2A"], hold: newHold()),
        ]
        #expect(SeatStore.bulkGroups(batch, sessions: [1, 1, 1, 1, 2]) == ["r", "r", "r", "x", "r"])
        let out = try conn.transaction { () throws(PGError) in
            try store.apply(batch, sessions: [1, 1, 1, 1, 2], scopes: [u, u, u, u, .unrestricted], holdTTLms: 60_000)
        }
        #expect(out.map(Self.normalized) == ["reserved [\"1A\"]", "reserved [\"1B\"]", "overQuota(seats: [\"1C\"], limit: 2)",
                                              "released(seats: [\"1A\"])", "reserved [\"2A\"]"])
        #expect(try heldBy(conn, u.holder!) == 1)
    }

    /// A session's own commands keep their order when others run set-wise: reserve, release, reserve of one seat ends held; release then reserve ends held too.
    @Test func sessionOrderIsKept() throws {
        let db = TestDatabase.shared
        let trip = try db.createTrip()
        let conn = try db.connect()
        let store = SeatStore(conn)
        let a = "order-hold-a-00000001", b = "order-hold-b-00000001"
        _ = try conn.transaction { () throws(PGError) in
            try store.apply([.reserve(tripId: trip, seats: ["2B"], hold: b)], holdTTLms: 60_000)
        }
        let batch: [Command] = [
            .reserve(tripId: trip, seats: ["1A"], hold: a),
            .release(tripId: trip, seats: ["1A"], hold: a),
            .reserve(tripId: trip, seats: ["1A"], hold: a),
            .release(tripId: trip, seats: ["2B"], hold: b),
            .reserve(tripId: trip, seats: ["2B"], hold: b),
        ]
        let out = try conn.transaction { () throws(PGError) in
            try store.apply(batch, sessions: [1, 1, 1, 2, 2], holdTTLms: 60_000)
        }
        #expect(out.map(Self.normalized) == ["reserved [\"1A\"]", "released(seats: [\"1A\"])", "reserved [\"1A\"]",
                                              "released(seats: [\"2B\"])", "reserved [\"2B\"]"])
        let snap = try db.snapshot(trip)
        #expect(snap.seats.first { $0.seatNo == "1A" }?.status == .held)
        #expect(snap.seats.first { $0.seatNo == "2B" }?.status == .held)
        #expect(SeatStore.bulkGroups(batch, sessions: [1, 1, 1, 2, 2]) == ["r", "x", nil, "x", nil])

        // Three sessions race for 5C in one batch, one of them twice: one winner (the first),
        // its retry is reserved too, the others get seat_taken.
        let race: [Command] = ["race-hold-000000000a", "race-hold-000000000b", "race-hold-000000000a", "race-hold-000000000c"]
            .map { .reserve(tripId: trip, seats: ["5C"], hold: $0) }
        let raced = try conn.transaction { () throws(PGError) in
            try store.apply(race, sessions: [3, 4, 3, 5], holdTTLms: 60_000)
        }
        #expect(raced.map(Self.normalized) == ["reserved [\"5C\"]", "rejected(seat_taken, seats: [\"5C\"])",
                                                "reserved [\"5C\"]", "rejected(seat_taken, seats: [\"5C\"])"])
        let locks = try store.events(tripId: trip, afterSeq: 0).filter { $0.seatNo == "5C" }
        #expect(locks.count == 1)
    }

    /// Outcomes without the hold-expiry instant (the two trips' transactions differ by microseconds).
    static func normalized(_ o: CommandOutcome) -> String {
        switch o {
        case let .reserved(seats, _): return "reserved \(seats)"
        case let .extended(seats, _): return "extended \(seats)"
        default: return "\(o)"
        }
    }
}

private extension Command {
    /// The same command on another trip.
    func on(_ trip: String) -> Command {
        switch self {
        case let .reserve(_, s, h): return .reserve(tripId: trip, seats: s, hold: h)
        case let .release(_, s, h): return .release(tripId: trip, seats: s, hold: h)
        case let .confirm(_, s, h): return .confirm(tripId: trip, seats: s, hold: h)
        case let .extend(_, h, s): return .extend(tripId: trip, hold: h, seconds: s)
        case let .releaseSeats(_, s): return .releaseSeats(tripId: trip, seats: s)
        }
    }
}
