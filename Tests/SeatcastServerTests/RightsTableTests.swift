import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// docs/PROTOCOL.md 1.1 "Who may do what", cell by cell, against a real server and database:
/// each cell is its own test case. A refusal is `unauthorized` (401) or `forbidden` (403) and
/// changes nothing in the database; an allowed action gets its normal answer.
@Suite(.timeLimit(.minutes(2)))
struct RightsTableTests {
    enum Who: String, Sendable, CaseIterable {
        case open, buyer, buyerElsewhere, buyerConfirm, anonymous, publicReader, backend

        var secured: Secured {
            switch self {
            case .open: return .open
            case .buyerConfirm: return Secured(buyerConfirm: true)
            case .publicReader: return Secured(publicRead: true)
            default: return Secured()
            }
        }

        /// The token this principal presents, if it is a buyer.
        func token(trip: String) -> String? {
            switch self {
            case .buyer, .buyerConfirm: return TestTokens.token(sub: "u1-\(trip)", trips: [trip])
            case .buyerElsewhere: return TestTokens.token(sub: "u1-\(trip)", trips: ["elsewhere"])
            default: return nil
            }
        }

        var httpHeaders: (String) -> [String: String] {
            { trip in
                if self == .backend { return ["Authorization": "Bearer \(TestTokens.apiKey)"] }
                return token(trip: trip).map { ["Authorization": "Bearer \($0)"] } ?? [:]
            }
        }
    }

    enum What: String, Sendable {
        case read, list, reserve, extend, releaseOwn, confirm, releaseAny, createTrip, deleteTrip
        var needsHold: Bool { [.extend, .releaseOwn, .confirm].contains(self) }
    }

    struct Cell: Sendable, CustomTestStringConvertible {
        var who: Who
        var what: What
        /// "ok", "unauthorized" or "forbidden".
        var expected: String
        var testDescription: String { "\(who.rawValue) \(what.rawValue) -> \(expected)" }
    }

    static func cells(_ rows: [(Who, [What: String])]) -> [Cell] {
        rows.flatMap { who, m in m.sorted { $0.key.rawValue < $1.key.rawValue }.map { Cell(who: who, what: $0.key, expected: $0.value) } }
    }

    static let webSocketCells = cells([
        (.open, [.read: "ok", .reserve: "ok", .extend: "ok", .releaseOwn: "ok", .confirm: "ok", .releaseAny: "forbidden"]),
        (.buyer, [.read: "ok", .reserve: "ok", .extend: "ok", .releaseOwn: "ok", .confirm: "forbidden", .releaseAny: "forbidden"]),
        (.buyerElsewhere, [.read: "forbidden", .reserve: "forbidden", .extend: "forbidden", .releaseOwn: "forbidden",
                           .confirm: "forbidden", .releaseAny: "forbidden"]),
        (.buyerConfirm, [.confirm: "ok"]),
        (.publicReader, [.read: "ok", .reserve: "unauthorized", .extend: "unauthorized", .releaseOwn: "unauthorized",
                         .confirm: "unauthorized", .releaseAny: "unauthorized"]),
    ])

    static let httpCells = cells([
        (.open, [.read: "ok", .list: "ok", .reserve: "ok", .extend: "ok", .releaseOwn: "ok", .confirm: "ok",
                 .releaseAny: "forbidden", .createTrip: "forbidden", .deleteTrip: "forbidden"]),
        (.buyer, [.read: "ok", .list: "ok", .reserve: "ok", .extend: "ok", .releaseOwn: "ok", .confirm: "forbidden",
                  .releaseAny: "forbidden", .createTrip: "forbidden", .deleteTrip: "forbidden"]),
        (.buyerElsewhere, [.read: "forbidden", .list: "ok", .reserve: "forbidden", .extend: "forbidden", .releaseOwn: "forbidden",
                           .confirm: "forbidden", .releaseAny: "forbidden", .createTrip: "forbidden", .deleteTrip: "forbidden"]),
        (.buyerConfirm, [.confirm: "ok"]),
        (.anonymous, [.read: "unauthorized", .list: "unauthorized", .reserve: "unauthorized", .extend: "unauthorized",
                      .releaseOwn: "unauthorized", .confirm: "unauthorized", .releaseAny: "unauthorized",
                      .createTrip: "unauthorized", .deleteTrip: "unauthorized"]),
        (.publicReader, [.read: "ok", .list: "ok", .reserve: "unauthorized", .confirm: "unauthorized", .releaseAny: "unauthorized"]),
        (.backend, [.read: "ok", .list: "ok", .reserve: "ok", .extend: "ok", .releaseOwn: "ok", .confirm: "ok"]),
    ])

    /// A hold on 1A for the cell's action: its own when it may reserve, else a helper buyer's
    /// (or, in open mode, anyone's), so a refusal is never just a missing hold.
    func hold(_ cell: Cell, _ server: TestServer, _ trip: String, own: () throws -> String?) throws -> String {
        if let h = try own() { return h }
        let helper: [String: String] = cell.who == .open ? [:] : ["Authorization": "Bearer \(TestTokens.token(sub: "helper-\(trip)"))"]
        let (status, body) = try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"seats":["1A"]}"#, headers: helper)
        guard status == 200, let h = try JSON.parse(body)["hold"]?.stringValue else { throw TestFailure("helper hold: \(status) \(body)") }
        return h
    }

    @Test(arguments: webSocketCells)
    func webSocket(_ cell: Cell) throws {
        try TestServer.withTrip(cell.who.secured) { server, trip throws in
            let c = try cell.who.token(trip: trip).map { try server.client("/ws", token: $0) } ?? server.client("/ws")
            let mayReserve = Self.webSocketCells.contains { $0.who == cell.who && $0.what == .reserve && $0.expected == "ok" }
                || cell.who == .buyerConfirm
            var holdToken = "none-held-here-0000"
            if cell.what.needsHold || cell.what == .releaseAny {
                holdToken = try hold(cell, server, trip) {
                    guard mayReserve else { return nil }
                    return try c.ask(#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"]}"#)["hold"]?.stringValue
                }
            }
            let before = try TripState(trip)
            let request: String
            switch cell.what {
            case .read: request = #"{"type":"subscribe","tripId":"\#(trip)"}"#
            case .reserve: request = #"{"type":"reserve","tripId":"\#(trip)","seats":["2A"]}"#
            case .extend: request = #"{"type":"extend","tripId":"\#(trip)","hold":"\#(holdToken)"}"#
            case .releaseOwn: request = #"{"type":"release","tripId":"\#(trip)","hold":"\#(holdToken)"}"#
            case .confirm: request = #"{"type":"confirm","tripId":"\#(trip)","hold":"\#(holdToken)"}"#
            case .releaseAny: request = #"{"type":"release","tripId":"\#(trip)","seats":["1A"]}"#
            default: throw TestFailure("not a WebSocket action")
            }
            let answer = cell.what == .read ? try readAnswer(c, request) : try c.ask(request)
            if cell.expected == "ok" {
                let want = ["read": "snapshot", "reserve": "reserved", "extend": "extended", "releaseOwn": "released",
                            "confirm": "confirmed", "releaseAny": "released"][cell.what.rawValue]
                #expect(answer.type == want, "\(answer.text)")
            } else {
                #expect(answer.type == "error", "\(answer.text)")
                #expect(answer.code == cell.expected, "\(answer.text)")
                #expect(try TripState(trip) == before)
            }
        }
    }

    /// The answer to a subscribe: its snapshot or its error.
    func readAnswer(_ c: WSClient, _ request: String) throws -> JSON {
        try c.send(request)
        while true {
            let m = try c.next()
            if m.type == "snapshot" || m.type == "error" { return m }
        }
    }

    @Test(arguments: httpCells)
    func http(_ cell: Cell) throws {
        try TestServer.withTrip(cell.who.secured) { server, trip throws in
            let headers = cell.who.httpHeaders(trip)
            let mayReserve = Self.httpCells.contains { $0.who == cell.who && $0.what == .reserve && $0.expected == "ok" }
                || cell.who == .buyerConfirm
            var holdToken = "none-held-here-0000"
            if cell.what.needsHold || cell.what == .releaseAny {
                holdToken = try hold(cell, server, trip) {
                    guard mayReserve else { return nil }
                    let (_, body) = try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"seats":["1A"]}"#, headers: headers)
                    return try JSON.parse(body)["hold"]?.stringValue
                }
            }
            let before = try TripState(trip)
            let newTrip = TestDatabase.uniqueTripId()
            let (method, path, body): (String, String, String?) = switch cell.what {
            case .read: ("GET", "/api/trips/\(trip)", nil)
            case .list: ("GET", "/api/trips", nil)
            case .reserve: ("POST", "/api/trips/\(trip)/reserve", #"{"seats":["2A"]}"#)
            case .extend: ("POST", "/api/trips/\(trip)/extend", #"{"hold":"\#(holdToken)"}"#)
            case .releaseOwn: ("POST", "/api/trips/\(trip)/release", #"{"hold":"\#(holdToken)"}"#)
            case .confirm: ("POST", "/api/trips/\(trip)/confirm", #"{"hold":"\#(holdToken)"}"#)
            case .releaseAny: ("POST", "/api/trips/\(trip)/release", #"{"seats":["1A"]}"#)
            case .createTrip: ("POST", "/api/trips", #"{"tripId":"\#(newTrip)","name":"n","rows":1,"cols":1}"#)
            case .deleteTrip: ("DELETE", "/api/trips/\(trip)", nil)
            }
            let (status, json) = parsed(try server.http(method, path, body: body, headers: headers))
            switch cell.expected {
            case "ok": #expect((200...201).contains(status), "\(status) \(json?.text ?? "")")
            default:
                #expect(status == (cell.expected == "unauthorized" ? 401 : 403), "\(status) \(json?.text ?? "")")
                #expect(json?.code == cell.expected)
                #expect(try TripState(trip) == before)
                #expect(try TestDatabase.shared.sql("SELECT 1 FROM trips WHERE trip_id = $1", [newTrip]).rowCount == 0)
            }
        }
    }

    /// The backend confirms and extends a buyer's hold (any hold).
    @Test func backendUsesAnyHold() throws {
        try TestServer.withTrip(Secured()) { server, trip throws in
            let (_, body) = try server.http("POST", "/api/trips/\(trip)/reserve", body: #"{"seats":["1A"]}"#, bearer: TestTokens.token())
            let hold = try JSON.parse(body)["hold"]?.stringValue ?? ""
            let (status, answer) = parsed(try server.http("POST", "/api/trips/\(trip)/confirm", body: #"{"hold":"\#(hold)"}"#,
                                                           bearer: TestTokens.apiKey))
            #expect(status == 200)
            #expect(answer?.type == "confirmed")
        }
    }

    /// A buyer's GET /api/trips lists only the trips its claim covers.
    @Test func buyerListIsFiltered() throws {
        let other = try TestDatabase.shared.createTrip(rows: 1, cols: 1)
        try TestServer.withTrip(Secured()) { server, trip throws in
            let (_, scoped) = parsed(try server.http("GET", "/api/trips?limit=1000", bearer: TestTokens.token(trips: [trip])))
            #expect(scoped?["trips"]?.arrayValue?.compactMap { $0["tripId"]?.stringValue } == [trip])
            let (_, all) = parsed(try server.http("GET", "/api/trips?limit=1000", bearer: TestTokens.token()))
            let ids = all?["trips"]?.arrayValue?.compactMap { $0["tripId"]?.stringValue } ?? []
            #expect(ids.contains(trip) && ids.contains(other))
        }
    }
}
