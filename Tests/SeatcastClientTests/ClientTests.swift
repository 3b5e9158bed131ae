import Foundation
import SeatcastClient
import SeatcastCore
import SeatcastTesting
import Testing

@Suite struct SeatMapRendererTests {
    static let snap = TripSnapshot(tripId: "T1", name: "Night bus", rows: 2, cols: 4, epoch: "e1", seq: 7, seats: [
        SeatState(seatNo: "1A", row: 1, col: 1, status: .available),
        SeatState(seatNo: "1B", row: 1, col: 2, status: .held, untilMs: 1),
        SeatState(seatNo: "1C", row: 1, col: 3, status: .booked),
        SeatState(seatNo: "1D", row: 1, col: 4, status: .available),
        SeatState(seatNo: "2A", row: 2, col: 1, status: .available),
        SeatState(seatNo: "2D", row: 2, col: 4, status: .held, untilMs: 1),
    ])

    /// Without colour every status still shows: a blank marker, `*` for held, `#` for booked, with the aisle after the second column.
    @Test func plainText() {
        let text = SeatMapRenderer.render(Self.snap, status: "live", color: false)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "Night bus  [T1]")
        #expect(lines[3] == "  1A    1B*      1C#   1D  ")
        // 2B and 2C are missing: blank cells keep the columns and the aisle in place.
        #expect(lines[4] == "  2A" + String(repeating: " ", count: 2 + 6 + 3 + 6 + 2) + "2D* ")
        #expect(text.contains("3 available, 2 held, 1 booked    seq 7 (epoch e1)"))
        #expect(text.hasSuffix("live\n"))
        #expect(!text.contains("\u{1B}"))
    }

    /// With colour each status gets its own ANSI style, and every style is reset.
    @Test func colour() {
        let text = SeatMapRenderer.render(Self.snap, status: "live", color: true)
        #expect(text.contains("\u{1B}[30;42m  1A  \u{1B}[0m"))
        #expect(text.contains("\u{1B}[30;43m  1B* \u{1B}[0m"))
        #expect(text.contains("\u{1B}[37;41m  1C# \u{1B}[0m"))
    }
}

@Suite struct WebSocketURLTests {
    /// ws:// URLs parse into host, port and path; anything else is refused.
    @Test func parse() {
        #expect(WebSocketURL("ws://127.0.0.1:8080") == WebSocketURL("ws://127.0.0.1:8080/"))
        let u = WebSocketURL("ws://example.org:9000/ws/trips/T1")
        #expect(u?.host == "example.org")
        #expect(u?.port == 9000)
        #expect(u?.path == "/ws/trips/T1")
        #expect(WebSocketURL("ws://h")?.port == 80)
        #expect(WebSocketURL("http://h:1") == nil)
        #expect(WebSocketURL("ws://:80") == nil)
        #expect(WebSocketURL("ws://h:0") == nil)
    }
}

@Suite struct FrameScanTests {
    private func scan<T>(_ text: String, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        Array(text.utf8).withUnsafeBytes(body)
    }

    /// The benchmark's field readers find a string, an array's first string and a number, and answer nil for a missing key or an empty number.
    @Test func fields() {
        let reply = #"{"type":"reserved","id":"c1","tripId":"T1","seats":["5C","6C"],"seq":42,"n":7}"#
        #expect(scan(reply) { FrameScan.string("type", in: $0) } == "reserved")
        #expect(scan(reply) { FrameScan.string("tripId", in: $0) } == "T1")
        #expect(scan(reply) { FrameScan.firstString("seats", in: $0) } == "5C")
        #expect(scan(reply) { FrameScan.seq(in: $0) } == 42)
        #expect(scan(reply) { FrameScan.int("n", in: $0) } == 7)
        #expect(scan(reply) { FrameScan.string("hold", in: $0) } == nil)
        #expect(scan(reply) { FrameScan.int("id", in: $0) } == nil)
        #expect(scan(#"{"type":"pong"}"#) { FrameScan.seq(in: $0) } == nil)
        #expect(scan(#"{"type":"snapshot","seq":3}"#) { FrameScan.isSnapshot($0) })
        #expect(!scan(reply) { FrameScan.isSnapshot($0) })
    }
}

@Suite(.timeLimit(.minutes(1)))
struct OneShotTests {
    /// One-shot requests over the libwebsockets client get the server's reply, success or not.
    @Test func reserveConfirmRelease() throws {
        try TestServer.withTrip { server, trip in
            let url = WebSocketURL("ws://127.0.0.1:\(server.port)")!
            let r = try OneShot.run(url: url, request: OneShot.request(type: "reserve", tripId: trip, seats: ["2C"], hold: nil)).get()
            #expect(r.succeeded)
            let hold = try JSON.parse(r.text)["hold"]?.stringValue ?? ""
            #expect(Validation.isHoldToken(hold))
            let again = try OneShot.run(url: url, request: OneShot.request(type: "reserve", tripId: trip, seats: ["2C"], hold: nil)).get()
            #expect(!again.succeeded)
            #expect(try JSON.parse(again.text)["reason"]?.stringValue == "seat_taken")
            let c = try OneShot.run(url: url, request: OneShot.request(type: "confirm", tripId: trip, seats: nil, hold: hold)).get()
            #expect(c.succeeded)
            #expect(try TestDatabase.shared.snapshot(trip).seats.first { $0.seatNo == "2C" }?.status == .booked)
            let refused = OneShot.run(url: WebSocketURL("ws://127.0.0.1:1")!, request: "{}")
            #expect(throws: WebSocketConnection.Closed.self) { try refused.get() }
        }
    }
}
