import Foundation
import SeatcastTesting
import Testing

@Suite(.timeLimit(.minutes(3)))
struct BrowserTests {
    /// The seat-map page in two headless Chromium browsers shows holds, bookings and releases live, keeps a hold across a reload, catches up after a seq gap, reports one winner in the race demo, shows the server's hold length, keeps every column of a 10-column trip reachable on a 390 px phone, connects only to its own origin, and loads as ES modules served as JavaScript, the protocol client importable on its own (Tests/browser/page_test.py).
    @Test func seatMapPageInRealBrowsers() throws {
        let trip = try TestDatabase.shared.createTrip(name: "Browser test: Accra - Kumasi 08:00")
        let phoneTrip = try TestDatabase.shared.createTrip(rows: 6, cols: 10, name: "Browser test: 10 across")
        // Not the default, so the page cannot pass by assuming 120 s.
        let holdTTL = 150
        let server = try TestServer { $0.holdTTL = Double(holdTTL) }
        defer { server.stop() }
        try runBrowserScript("page_test.py", server: server,
            ["--trip", trip, "--phone-trip", phoneTrip, "--hold-ttl", String(holdTTL)], timeout: 150)
    }
}
