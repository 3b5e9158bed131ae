/// How seats are named: row number then a column letter (`12C`) when a trip has
/// at most 26 columns, `row-col` (`12-27`) for every seat of a wider trip.
public enum SeatNumbering {
    public static func seatNo(row: Int, col: Int, cols: Int) -> String {
        precondition(row >= 1 && col >= 1 && col <= cols)
        if cols <= 26 {
            return "\(row)\(Character(Unicode.Scalar(UInt8(64 + col))))"
        }
        return "\(row)-\(col)"
    }

    /// Inverse of `seatNo` for a trip with `cols` columns; nil when the name is not one of its forms.
    public static func position(of seatNo: String, cols: Int) -> (row: Int, col: Int)? {
        if cols <= 26 {
            guard let last = seatNo.utf8.last, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(last),
                  let row = Int(seatNo.dropLast()), row >= 1, String(row) == seatNo.dropLast() else { return nil }
            let col = Int(last) - 64
            return col <= cols ? (row, col) : nil
        }
        let parts = seatNo.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let row = Int(parts[0]), let col = Int(parts[1]), row >= 1, col >= 1, col <= cols,
              String(row) == parts[0], String(col) == parts[1] else { return nil }
        return (row, col)
    }
}
