import Foundation
import SeatcastTesting
import Testing

@Suite(.timeLimit(.minutes(5)))
struct StadiumPageTests {
    /// The seat-map page on a 500 x 100 trip (50,000 seats) in two headless Chromium: the map is the canvas, usable within 15 s of navigation, a click on a seat shows within 2 s and the other browser sees the hold; the map is one Tab stop with a working keyboard cursor and an accessible name; the JS heap and the DOM stay small (Tests/browser/stadium_test.py). Prints the measured figures; asserts only generous bounds. The page asks for the compact snapshot and the server sends it (the test checks both).
    @Test func stadiumMapInRealBrowsers() throws {
        let trip = try TestDatabase.shared.createTrip(rows: 500, cols: 100, name: "Browser test: stadium 500 x 100")
        let server = try TestServer()
        defer { server.stop() }
        let out = try runBrowserScript("stadium_test.py", server: server, ["--trip", trip], timeout: 240)
        for line in out.split(separator: "\n") where line.hasPrefix("stadium_test: ") { print(line) }
    }
}
