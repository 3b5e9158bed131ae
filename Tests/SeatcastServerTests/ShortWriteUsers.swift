import Foundation
import SeatcastCore
import SeatcastTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

// The clients of `ShortWriteTests`: what each one must receive (`User`) and what they
// share (`Shared`), each reading through a `StrictClient`.

struct TripInfo: Sendable {
    let id: String
    let seats: [String]

    init(id: String, _ db: TestDatabase) throws {
        self.id = id
        seats = try db.snapshot(id).seats.map(\.seatNo)
    }
}

/// What the clients share: progress (to pause on), and the text of every event and
/// snapshot seen, so the same message is byte-identical for every subscriber.
final class Shared: @unchecked Sendable {
    private let cond = NSCondition()
    private var progress = 0
    private var done = false
    private var events: [String: [Int64: String]] = [:]
    private var snapshots: [String: [Int64: String]] = [:]

    /// Active clients still sending.
    private var activeLeft: Int

    init(trips: [TripInfo], activeClients: Int) {
        activeLeft = activeClients
        for t in trips { events[t.id] = [:]; snapshots[t.id] = [:] }
    }

    var isDone: Bool {
        cond.lock()
        defer { cond.unlock() }
        return done
    }

    func advance() {
        cond.lock()
        progress += 1
        cond.broadcast()
        cond.unlock()
    }

    /// An active client has sent everything and has every answer; the traffic ends with the last one.
    func activeFinished() {
        cond.lock()
        activeLeft -= 1
        if activeLeft <= 0 { done = true }
        cond.broadcast()
        cond.unlock()
    }

    /// A pause between reads: until the other clients have handled `steps` more messages
    /// (or the traffic has ended). The timeout only bounds the pause (load shaping).
    func pause(steps: Int, atMost timeout: Double) {
        cond.lock()
        defer { cond.unlock() }
        let target = progress + steps
        let deadline = Date().addingTimeInterval(timeout)
        while progress < target && !done {
            if !cond.wait(until: deadline) { return }
        }
    }

    /// Throws when another subscriber got different bytes for the same event or snapshot.
    func check(_ kind: String, trip: String, seq: Int64, _ text: String) throws {
        cond.lock()
        defer { cond.unlock() }
        if kind == "snapshot" {
            if let seen = snapshots[trip]?[seq], seen != text { throw TestFailure("snapshot \(trip)@\(seq) differs between subscribers") }
            snapshots[trip, default: [:]][seq] = text
        } else {
            if let seen = events[trip]?[seq], seen != text {
                throw TestFailure("event \(trip)@\(seq) differs between subscribers:\n\(seen)\n\(text)")
            }
            events[trip, default: [:]][seq] = text
        }
    }
}

/// One connection and everything it must receive.
final class User: @unchecked Sendable {
    let name: String
    let active: Bool
    let client: StrictClient
    let trips: [TripInfo]
    let shared: Shared
    var rng: SplitMix64
    let hold: String
    /// The trips subscribed to (a snapshot of each is owed or was received).
    var subscribed: Set<String> = []
    var maps: [String: ClientMap] = [:]
    /// Subscribed and no snapshot received since.
    var awaitingSnapshot: Set<String> = []
    /// Requests sent and not answered: id -> the reply types that may answer it.
    var outstanding: [String: Set<String>] = [:]
    var answered: Set<String> = []
    private var nextId = 0
    var eventsApplied = 0
    var snapshotsApplied = 0
    var repliesReceived = 0

    init(name: String, active: Bool, server: TestServer, trips: [TripInfo], shared: Shared, seed: UInt64) throws {
        self.name = name
        self.active = active
        self.trips = trips
        self.shared = shared
        rng = SplitMix64(seed: seed)
        hold = "hold_" + String((0..<20).map { _ in Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(Int.random(in: 0..<26)))) })
        // Half start subscribed by URL (the snapshot is the first frame), half on /ws.
        let first = trips[Int(seed % UInt64(trips.count))].id
        if Int(seed % 2) == 0 {
            client = try StrictClient(port: server.port, path: "/ws/trips/\(first)", receiveBuffer: 4096)
            subscribed.insert(first)
            awaitingSnapshot.insert(first)
        } else {
            client = try StrictClient(port: server.port, path: "/ws", receiveBuffer: 4096)
            try subscribe(first)
        }
        // Listeners take two more trips now and then only read.
        if !active {
            for t in trips where t.id != first && subscribed.count < 3 { try subscribe(t.id) }
        }
    }

    // MARK: Requests

    /// A request id of random length (1 to 64 bytes), unique on this connection, with
    /// characters JSON must escape and multi-byte UTF-8 in it now and then.
    func newId() -> String {
        nextId += 1
        let prefix = String(nextId, radix: 36) + ":"
        let alphabet: [String] = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.").map(String.init)
            + ["\"", "\\", "/", "é", "✓", "🚌", " "]
        let want = rng.int(1...64)
        var id = prefix
        while true {
            let c = alphabet[rng.int(0...(alphabet.count - 1))]
            if id.utf8.count + c.utf8.count > want { break }
            id += c
        }
        return id
    }

    private func send(_ members: [(String, JSON)], expecting replies: Set<String>) throws {
        let id = newId()
        outstanding[id] = replies
        try client.send(JSON.object(members + [("id", .string(id))]).text)
    }

    func subscribe(_ trip: String) throws {
        subscribed.insert(trip)
        awaitingSnapshot.insert(trip)
        try client.send(JSON.object([("type", .string("subscribe")), ("tripId", .string(trip))]).text)
    }

    func ping() throws { try send([("type", .string("ping"))], expecting: ["pong"]) }

    func randomRequest() throws {
        let roll = rng.int(0...99)
        let trip = trips[rng.int(0...(trips.count - 1))]
        switch roll {
        case 0..<50:
            let seats = (0..<rng.int(1...3)).map { _ in trip.seats[rng.int(0...(trip.seats.count - 1))] }
            try send([("type", .string("reserve")), ("tripId", .string(trip.id)), ("seats", .array(Array(Set(seats)).map { .string($0) })),
                      ("hold", .string(hold))], expecting: ["reserved", "rejected"])
        case 50..<75:
            try send([("type", .string("release")), ("tripId", .string(trip.id)), ("hold", .string(hold))], expecting: ["released"])
        case 75..<90:
            try ping()
        default:
            try subscribe(trip.id)
        }
    }

    // MARK: Receiving

    /// Reads what is there (at most `max` bytes, waiting up to `timeout`) and checks every message.
    @discardableResult
    func readSome(max: Int, timeout: Double) throws -> Int {
        let n = try client.read(max: max, timeout: timeout)
        for m in try client.frames() {
            guard case let .text(text, j) = m else { continue }
            try handle(text, j)
            shared.advance()
        }
        return n
    }

    func handle(_ text: String, _ j: JSON) throws {
        let type = j["type"]!.stringValue!
        switch type {
        case "snapshot":
            guard let trip = j["tripId"]?.stringValue, subscribed.contains(trip) else { throw TestFailure("\(name): snapshot of a trip not subscribed: \(text.prefix(120))") }
            let map = try ClientMap(snapshot: j)
            try shared.check("snapshot", trip: trip, seq: map.seq, text)
            maps[trip] = map
            awaitingSnapshot.remove(trip)
            snapshotsApplied += 1
        case "seat_locked", "seat_released", "seat_booked":
            guard let trip = j["tripId"]?.stringValue, var map = maps[trip] else { throw TestFailure("\(name): event before any snapshot: \(text)") }
            do { try map.apply(j) } catch { throw TestFailure("\(name): \(error): \(text)") }
            try shared.check("event", trip: trip, seq: map.seq, text)
            maps[trip] = map
            eventsApplied += 1
        case "reserved", "rejected", "released", "pong":
            guard let id = j["id"]?.stringValue else { throw TestFailure("\(name): reply without id: \(text)") }
            guard !answered.contains(id) else { throw TestFailure("\(name): second reply to \(id): \(text)") }
            guard let allowed = outstanding.removeValue(forKey: id) else { throw TestFailure("\(name): reply to an id never sent: \(text)") }
            guard allowed.contains(type) else { throw TestFailure("\(name): \(type) answers a request expecting \(allowed): \(text)") }
            if type == "rejected", j["reason"]?.stringValue != "seat_taken" { throw TestFailure("\(name): unexpected rejection: \(text)") }
            answered.insert(id)
            repliesReceived += 1
        default:
            throw TestFailure("\(name): unexpected message: \(text.prefix(200))")
        }
    }

    // MARK: Phases

    /// Active: sends `requests` requests a few at a time; every client reads in bursts of
    /// random size and pauses in between, until its requests are answered and the traffic
    /// of the others has ended.
    func runTraffic(requests: Int) throws {
        var sent = 0
        let deadline = Date().addingTimeInterval(60)
        while active ? (sent < requests || !outstanding.isEmpty) : !shared.isDone {
            guard Date() < deadline else { throw TestFailure("\(name): traffic did not finish; \(outstanding.count) unanswered") }
            if active && sent < requests && outstanding.count < 16 {
                for _ in 0..<rng.int(1...4) where sent < requests {
                    try randomRequest()
                    sent += 1
                }
            }
            // A burst: as much as `budget` bytes of what has arrived.
            let budget = rng.int(256...12_000)
            var got = 0
            while got < budget {
                let n = try readSome(max: min(4096, budget - got), timeout: 0.05)
                if n == 0 { break }
                got += n
            }
            shared.pause(steps: rng.int(1...12), atMost: 0.15)
        }
    }

    /// Reads until each subscribed trip's map has reached the target seq, every snapshot
    /// owed has come and every request is answered.
    func readUntil(_ targets: [String: Int64], timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        func reached() -> Bool {
            awaitingSnapshot.isEmpty && outstanding.isEmpty
                && subscribed.allSatisfy { t in (maps[t]?.seq ?? -1) >= targets[t]! }
        }
        while !reached() {
            guard Date() < deadline else {
                throw TestFailure("\(name): maps at \(maps.mapValues(\.seq)), targets \(targets), awaiting \(awaitingSnapshot), \(outstanding.count) unanswered")
            }
            try readSome(max: 4096, timeout: 0.5)
        }
    }

    /// Reads everything until the close frame, then expects the end of the stream.
    func readUntilClose(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while client.closeCode == nil {
            guard Date() < deadline else { throw TestFailure("\(name): no close frame; \(outstanding.count) unanswered") }
            try readSome(max: 4096, timeout: 0.5)
        }
        try client.finishClose(timeout: 10)
    }
}
