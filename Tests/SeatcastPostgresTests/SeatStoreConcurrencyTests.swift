import Foundation
import SeatcastCore
@testable import SeatcastPostgres
import SeatcastTesting
import Testing

@Suite("SeatStore concurrency", .timeLimit(.minutes(3)))
struct SeatStoreConcurrencyTests {
    /// Sixteen connections reserving one seat at the same moment: exactly one reserved, fifteen seat_taken, one locked event.
    @Test func sixteenRacersOneSeat() throws {
        let trip = try TestDatabase.shared.createTrip()
        let holds = (0..<16).map { _ in newHold("racer") }
        let outcomes = Shared<[Int: CommandOutcome]>([:])
        let errors = runTogether(16) { i, db in
            let o = try applyRetrying(db, [.reserve(tripId: trip, seats: ["1A"], hold: holds[i])])[0]
            outcomes.update { $0[i] = o }
        }
        #expect(errors == [])
        let all = outcomes.value
        #expect(all.count == 16)
        let winners = all.filter { reservedUntil($0.value) != nil }.map(\.key)
        #expect(winners.count == 1)
        #expect(all.values.filter { $0 == .rejected(.seatTaken, seats: ["1A"]) }.count == 15)

        let db = try TestDatabase.shared.connect()
        let events = try allEvents(db, trip)
        #expect(events.count == 1)
        #expect(events.first?.seatNo == "1A" && events.first?.kind == .locked && events.first?.seq == 1)
        #expect(events.first?.untilMs == winners.first.flatMap { reservedUntil(all[$0]!) })
        if let w = winners.first { #expect(try isHolder(db, trip, "1A", holds[w])) }
        #expect(try lastSeq(db, trip) == 1)
    }

    /// Sixteen connections reserving the same three seats at once: one takes all three, the others take none.
    @Test func sixteenRacersSameSeats() throws {
        let trip = try TestDatabase.shared.createTrip()
        let seats = ["6B", "6C", "6A"]
        let holds = (0..<16).map { _ in newHold("racer") }
        let outcomes = Shared<[Int: CommandOutcome]>([:])
        let errors = runTogether(16) { i, db in
            let o = try applyRetrying(db, [.reserve(tripId: trip, seats: .listed(seats), hold: holds[i])])[0]
            outcomes.update { $0[i] = o }
        }
        #expect(errors == [])
        let all = outcomes.value
        let winners = all.filter { reservedUntil($0.value) != nil }.map(\.key)
        #expect(winners.count == 1)
        #expect(all.values.filter { $0 == .rejected(.seatTaken, seats: seats) }.count == 15)
        let db = try TestDatabase.shared.connect()
        if let w = winners.first {
            for s in seats { #expect(try isHolder(db, trip, s, holds[w])) }
        }
        #expect(try allEvents(db, trip).map(\.seq) == [1, 2, 3])
    }

    /// Eight threads running fifty transactions each on one trip leave a gap-free outbox whose replay equals the database, and so does every snapshot taken meanwhile.
    @Test func manyWritersGapFreeOutbox() throws {
        let rows = 20, cols = 20, writers = 8, perWriter = 50
        let trip = try TestDatabase.shared.createTrip(rows: rows, cols: cols)
        let initial = try TestDatabase.shared.snapshot(trip)
        let names = seatNames(rows: rows, cols: cols)
        let seatsPerWriter = names.count / writers
        let finished = Shared<Int>(0)
        let snapshots = Shared<[TripSnapshot]>([])
        let problems = Shared<[String]>([])

        let errors = runTogether(writers + 1) { w, db in
            if w == writers {
                // The reader: snapshots while the writers run.
                let store = SeatStore(db)
                while finished.value < writers, snapshots.value.count < 1000 {
                    if let s = try store.snapshot(tripId: trip) { snapshots.update { $0.append(s) } }
                }
                return
            }
            defer { finished.update { $0 += 1 } }
            let own = Array(names[(w * seatsPerWriter)..<((w + 1) * seatsPerWriter)])
            let pairs = seatsPerWriter / 2
            func pair(_ i: Int) -> [String] { let k = i % pairs; return [own[2 * k], own[2 * k + 1]] }
            let hold = newHold("writer\(w)")
            var booked = Set<String>()
            for i in 0..<perWriter {
                var commands: [Command] = [.reserve(tripId: trip, seats: .listed(pair(i)), hold: hold)]
                if i > 0 {
                    commands.append(i % 7 == 0 ? .confirm(tripId: trip, seats: pair(i - 1), hold: hold)
                                               : .release(tripId: trip, seats: pair(i - 1), hold: hold))
                }
                let outcomes = try applyRetrying(db, commands)
                switch outcomes[0] {
                case .reserved: break
                case .rejected(.seatTaken, _) where booked.isSuperset(of: pair(i)): break
                default: problems.update { $0.append("writer \(w) tx \(i) reserve: \(outcomes[0])") }
                }
                if i > 0 {
                    switch outcomes[1] {
                    case .confirmed: booked.formUnion(pair(i - 1))
                    case .released: break
                    default: problems.update { $0.append("writer \(w) tx \(i): \(outcomes[1])") }
                    }
                }
            }
        }
        #expect(errors == [])
        #expect(problems.value == [])

        let db = try TestDatabase.shared.connect()
        let last = try lastSeq(db, trip)
        let stats = try db.exec("""
            SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM seat_events WHERE trip_id = $1
            """, [trip])
        #expect(stats.int64(0, 0) == last)
        #expect(stats.int64(0, 1) == last)
        #expect(stats.int64(0, 2) == 1)
        #expect(stats.int64(0, 3) == last)
        // Each transaction locks two seats and frees or books two (when it had them).
        #expect(last > Int64(writers * perWriter * 2))

        let events = try allEvents(db, trip)
        #expect(events.map(\.seq) == Array(1...last))
        let final = try TestDatabase.shared.snapshot(trip)
        #expect(final.seq == last)
        let map = replay(initial, events)
        #expect(map.seq == last)
        #expect(map.snapshot == final)

        // Every snapshot taken during the run equals the replay of the events up to its seq.
        let taken = snapshots.value.sorted { $0.seq < $1.seq }
        #expect(!taken.isEmpty)
        var partial = TripMap(initial)
        var next = 0
        var mismatches = 0
        for s in taken {
            while next < events.count, events[next].seq <= s.seq {
                _ = partial.apply(events[next])
                next += 1
            }
            if partial.snapshot != s { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(mismatches) of \(taken.count) snapshots differ from the replay at their seq")
    }

    /// Two connections repeatedly taking overlapping pairs [xA, xB] and [xB, xC] at once: never both, never partial.
    @Test func overlappingPairs() throws {
        let rounds = 60
        let trip = try TestDatabase.shared.createTrip(rows: rounds, cols: 3)
        let holds = [newHold("left"), newHold("right")]
        let outcomes = Shared<[Int: [CommandOutcome]]>([0: [], 1: []])
        let arrived = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let errors = runTogether(2) { t, db in
            for x in 1...rounds {
                // Meet the other thread, then race.
                arrived[t].signal()
                arrived[1 - t].wait()
                var seats = t == 0 ? ["\(x)A", "\(x)B"] : ["\(x)B", "\(x)C"]
                if x % 2 == 0 { seats.reverse() }
                let o = try applyRetrying(db, [.reserve(tripId: trip, seats: .listed(seats), hold: holds[t])])[0]
                outcomes.update { $0[t]!.append(o) }
            }
        }
        #expect(errors == [])
        let left = outcomes.value[0]!, right = outcomes.value[1]!
        #expect(left.count == rounds && right.count == rounds)
        let db = try TestDatabase.shared.connect()
        let snap = try TestDatabase.shared.snapshot(trip)
        for x in 1...min(rounds, left.count, right.count) {
            let l = reservedUntil(left[x - 1]) != nil, r = reservedUntil(right[x - 1]) != nil
            #expect(l != r, "row \(x): left \(left[x - 1]), right \(right[x - 1])")
            if l { #expect(right[x - 1] == .rejected(.seatTaken, seats: ["\(x)B"])) }
            if r { #expect(left[x - 1] == .rejected(.seatTaken, seats: ["\(x)B"])) }
            let status = snap.seats.filter { $0.row == x }.map(\.status)
            if l {
                #expect(status == [.held, .held, .available])
                #expect(try isHolder(db, trip, "\(x)A", holds[0]) && isHolder(db, trip, "\(x)B", holds[0]))
            } else if r {
                #expect(status == [.available, .held, .held])
                #expect(try isHolder(db, trip, "\(x)B", holds[1]) && isHolder(db, trip, "\(x)C", holds[1]))
            }
        }
        #expect(try lastSeq(db, trip) == Int64(2 * rounds))
        #expect(try allEvents(db, trip).map(\.seq) == Array(1...Int64(2 * rounds)))
    }
}
