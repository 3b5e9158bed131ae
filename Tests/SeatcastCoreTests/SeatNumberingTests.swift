import Testing
@testable import SeatcastCore

@Suite("SeatNumbering")
struct SeatNumberingTests {
    /// A 12 x 4 trip names its seats 1A, 1B, ... 12D, row by row.
    @Test func twelveByFour() {
        var names: [String] = []
        for row in 1...12 { for col in 1...4 { names.append(SeatNumbering.seatNo(row: row, col: col, cols: 4)) } }
        #expect(names.count == 48)
        #expect(names.prefix(5) == ["1A", "1B", "1C", "1D", "2A"])
        #expect(names.last == "12D")
        #expect(Set(names).count == 48)
        #expect(names.allSatisfy(Validation.isSeatNo))
    }

    /// The 26th column is `Z` while a trip has at most 26 columns.
    @Test func twentySixColumns() {
        #expect(SeatNumbering.seatNo(row: 3, col: 26, cols: 26) == "3Z")
        #expect(SeatNumbering.seatNo(row: 100, col: 1, cols: 26) == "100A")
    }

    /// A 27-column trip uses the `row-col` form for every seat, including the first columns.
    @Test func twentySevenColumns() {
        #expect(SeatNumbering.seatNo(row: 3, col: 27, cols: 27) == "3-27")
        #expect(SeatNumbering.seatNo(row: 3, col: 1, cols: 27) == "3-1")
        #expect(SeatNumbering.seatNo(row: 12, col: 10, cols: 27) == "12-10")
        for row in 1...3 {
            for col in 1...27 {
                let name = SeatNumbering.seatNo(row: row, col: col, cols: 27)
                #expect(name == "\(row)-\(col)")
                #expect(Validation.isSeatNo(name))
            }
        }
    }

    /// `position(of:cols:)` inverts `seatNo` for every seat of narrow and wide trips.
    @Test(arguments: [1, 4, 5, 26, 27, 40])
    func positionInvertsSeatNo(cols: Int) {
        for row in [1, 2, 9, 10, 12, 99, 100] {
            for col in 1...cols {
                let name = SeatNumbering.seatNo(row: row, col: col, cols: cols)
                let p = SeatNumbering.position(of: name, cols: cols)
                #expect(p?.row == row && p?.col == col, "\(name)")
            }
        }
    }

    /// Names that are not a seat of a 4-column trip are rejected.
    @Test(arguments: ["0A", "1E", "01A", "1Z", "1a", "A", "1", "", "-1A", "+1A", "1AA", "A1", " 1A", "1A ", "1-1", "1@",
                      "1\u{0}A", "１A"])
    func invalidNarrowNames(name: String) {
        #expect(SeatNumbering.position(of: name, cols: 4) == nil)
    }

    /// Names that are not a seat of a 27-column trip are rejected, including the letter form.
    @Test(arguments: ["3A", "0-1", "1-0", "1-28", "01-1", "1-01", "1-", "-1", "1--1", "1-1-1", "+1-1", "1-+1", "", "-", "a-b"])
    func invalidWideNames(name: String) {
        #expect(SeatNumbering.position(of: name, cols: 27) == nil)
    }

    /// A `row-col` name is not accepted by a narrow trip.
    @Test func wideFormOnNarrowTrip() {
        #expect(SeatNumbering.position(of: "3-2", cols: 4) == nil)
    }

    /// Valid names on narrow and wide trips give their positions.
    @Test func validPositions() {
        #expect(SeatNumbering.position(of: "12D", cols: 4).map { [$0.row, $0.col] } == [12, 4])
        #expect(SeatNumbering.position(of: "1A", cols: 1).map { [$0.row, $0.col] } == [1, 1])
        #expect(SeatNumbering.position(of: "3-27", cols: 27).map { [$0.row, $0.col] } == [3, 27])
        #expect(SeatNumbering.position(of: "12-1", cols: 30).map { [$0.row, $0.col] } == [12, 1])
    }
}
